// The parts of sodium-native (libsodium bindings, 5.x, CommonJS) that p2p uses: sealed boxes and
// the Ed25519 -> X25519 key conversion. Outputs are written into the first argument.
declare module 'sodium-native' {
  interface Sodium {
    readonly crypto_box_SEALBYTES: number
    readonly crypto_box_PUBLICKEYBYTES: number
    readonly crypto_box_SECRETKEYBYTES: number
    crypto_box_seal(ciphertext: Buffer, message: Buffer, publicKey: Buffer): void
    crypto_box_seal_open(message: Buffer, ciphertext: Buffer, publicKey: Buffer, secretKey: Buffer): boolean
    crypto_sign_ed25519_pk_to_curve25519(x25519PublicKey: Buffer, ed25519PublicKey: Buffer): void
    crypto_sign_ed25519_sk_to_curve25519(x25519SecretKey: Buffer, ed25519SecretKey: Buffer): void
  }
  const sodium: Sodium
  export default sodium
}
