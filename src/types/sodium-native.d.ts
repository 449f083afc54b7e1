// The parts of sodium-native that p2p calls directly (the lease proof of discovery keep-alives).
declare module 'sodium-native' {
  const sodium: {
    crypto_box_SEALBYTES: number
    crypto_box_seal(ciphertext: Buffer, message: Buffer, publicKey: Buffer): void
    crypto_box_seal_open(message: Buffer, ciphertext: Buffer, publicKey: Buffer, secretKey: Buffer): boolean
    crypto_sign_ed25519_pk_to_curve25519(curvePublicKey: Buffer, edPublicKey: Buffer): void
    crypto_sign_ed25519_sk_to_curve25519(curveSecretKey: Buffer, edSecretKey: Buffer): void
  }
  export default sodium
}
