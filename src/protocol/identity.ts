/**
 * Ed25519 identities. One key pair per user: it signs discovery requests and is the static key
 * of the Noise handshake on peer links (@hyperswarm/secret-stream uses Ed25519 keys directly), so
 * the key the discovery server binds to a user id is the very key that authenticates the link.
 *
 * node:crypto does the signing: no native addon is needed to sign or verify, which keeps the
 * discovery server and the CLI light. Keys travel as lower-case hex.
 */
import { createHash, createPrivateKey, createPublicKey, sign as edSign, verify as edVerify, type KeyObject, randomBytes } from 'node:crypto'

export interface Identity {
  /** 32-byte Ed25519 public key. */
  publicKey: Buffer
  /** 32-byte Ed25519 seed (the private key). */
  seed: Buffer
}

// DER wrappers that turn raw 32-byte keys into the PKCS#8 / SPKI forms node:crypto takes.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export function identityFromSeed(seed: Buffer): Identity {
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes')
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return { seed: Buffer.from(seed), publicKey: Buffer.from(spki.subarray(SPKI_ED25519_PREFIX.length)) }
}

export function generateIdentity(): Identity {
  return identityFromSeed(randomBytes(32))
}

const privateKeys = new WeakMap<Buffer, KeyObject>()

export function sign(identity: Identity, message: Uint8Array): Buffer {
  let key = privateKeys.get(identity.seed)
  if (!key) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, identity.seed]), format: 'der', type: 'pkcs8' })
    privateKeys.set(identity.seed, key)
  }
  return edSign(null, message, key)
}

/**
 * Public keys already parsed, by hex. Measured under load on the discovery server, building the
 * KeyObject took longer than the verification itself (16% of CPU against 13%). Bounded: cleared
 * whole when full, which costs one rebuild per key.
 */
const publicKeys = new Map<string, KeyObject>()
const MAX_CACHED_PUBLIC_KEYS = 50_000

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const hex = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('hex')
  let key = publicKeys.get(hex)
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' })
    if (publicKeys.size >= MAX_CACHED_PUBLIC_KEYS) publicKeys.clear()
    publicKeys.set(hex, key)
  }
  return key
}

export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  try {
    return edVerify(null, message, publicKeyObject(publicKey), signature)
  } catch {
    // Not a point on the curve: as good as a bad signature.
    return false
  }
}

/**
 * A short, readable digest of a public key for people to compare out of band
 * ("is your fingerprint 3f2a-9c41-...?"): the first 80 bits of SHA-256, in five groups of four.
 */
export function fingerprint(publicKey: Uint8Array): string {
  const hex = createHash('sha256').update(publicKey).digest('hex').slice(0, 20)
  return hex.match(/.{4}/g)?.join('-') ?? hex
}

/** Pure: a fingerprint as typed by a person (any case, dashes or not) in the form `fingerprint` prints. */
export function normalizeFingerprint(typed: string): string {
  const hex = typed.toLowerCase().replace(/[^0-9a-f]/g, '')
  return hex.match(/.{4}/g)?.join('-') ?? hex
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

export function fromHex(hex: string): Buffer {
  return Buffer.from(hex, 'hex')
}
