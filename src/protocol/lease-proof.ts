/**
 * The lease proof: a keep-alive authenticated by an HMAC instead of an Ed25519 signature.
 *
 * Why: a keep-alive is the one request every online user sends all the time (every ttl/3), and an
 * Ed25519 verification costs about 100 µs of a core here (8-10k/s), against about 3 µs for an
 * HMAC-SHA256. At 10 million users that is the difference between a rack and a few machines.
 *
 * How:
 *   - Each server namespace has a secret (32 random bytes, shared by every instance on one Redis).
 *   - A registration (signed with Ed25519, as ever) is answered with `leaseKey`: the lease key
 *     HMAC(secret, [tag, userId, publicKey, instance]), sealed to the user's key (libsodium sealed
 *     box to the Curve25519 form of the Ed25519 key). Only the holder of the private key can open
 *     it, so an eavesdropper on plain HTTP learns nothing it could use.
 *   - A keep-alive may then carry `mac` = HMAC(leaseKey, the same canonical bytes a signature
 *     covers) instead of `sig`. The server derives the lease key again from the binding (no state
 *     per lease), compares in constant time, and refuses a replay by the same nonce record.
 * A forger needs the lease key, which never travels in the clear; a replay is refused as before; a
 * key bound to another public key or instance derives another lease key. Old clients ignore
 * `leaseKey` and keep signing; old servers never send it, and new clients keep signing then.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import sodium from 'sodium-native'
import { canonicalBytes } from './discovery-signing.js'
import type { Identity } from './identity.js'

export const LEASE_KEY_BYTES = 32

/** Pure: the lease key of one (user, key, daemon instance) under the namespace's secret. */
export function deriveLeaseKey(secret: Buffer, userId: string, publicKeyHex: string, instance?: string): Buffer {
  return createHmac('sha256', secret)
    .update(JSON.stringify(['p2p/v1/lease-key', userId, publicKeyHex, instance ?? null]))
    .digest()
}

/** Pure: the `mac` of a keep-alive body. */
export function leaseMac(leaseKey: Buffer, body: { userId: string; ts: number; instance?: string }): string {
  return createHmac('sha256', leaseKey).update(canonicalBytes('keepalive', body)).digest('hex')
}

/** Pure: whether `mac` is the keep-alive's MAC under `leaseKey`, compared in constant time. */
export function verifyLeaseMac(leaseKey: Buffer, body: { userId: string; ts: number; instance?: string }, mac: string): boolean {
  const want = Buffer.from(leaseMac(leaseKey, body), 'hex')
  const got = Buffer.from(mac, 'hex')
  return got.length === want.length && timingSafeEqual(got, want)
}

/** The lease key sealed to an Ed25519 public key, as hex. */
export function sealLeaseKey(leaseKey: Buffer, publicKeyHex: string): string {
  const curve = Buffer.alloc(32)
  sodium.crypto_sign_ed25519_pk_to_curve25519(curve, Buffer.from(publicKeyHex, 'hex'))
  const sealed = Buffer.alloc(leaseKey.length + sodium.crypto_box_SEALBYTES)
  sodium.crypto_box_seal(sealed, leaseKey, curve)
  return sealed.toString('hex')
}

/** The lease key a server sealed to `identity`, or undefined when it does not open. */
export function openLeaseKey(sealedHex: string, identity: Identity): Buffer | undefined {
  const sealed = Buffer.from(sealedHex, 'hex')
  if (sealed.length !== LEASE_KEY_BYTES + sodium.crypto_box_SEALBYTES) return undefined
  const curvePublic = Buffer.alloc(32)
  const curveSecret = Buffer.alloc(32)
  sodium.crypto_sign_ed25519_pk_to_curve25519(curvePublic, identity.publicKey)
  sodium.crypto_sign_ed25519_sk_to_curve25519(curveSecret, Buffer.concat([identity.seed, identity.publicKey]))
  const key = Buffer.alloc(LEASE_KEY_BYTES)
  try {
    return sodium.crypto_box_seal_open(key, sealed, curvePublic, curveSecret) ? key : undefined
  } catch {
    return undefined
  } finally {
    curveSecret.fill(0)
  }
}
