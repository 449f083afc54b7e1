/**
 * The signed requests of the discovery server's HTTP surface (SPEC section 3): the canonical bytes
 * each signature covers, signing and checking. Apart from the schemas (discovery.ts, which
 * re-exports all of this) so that a daemon signing its keep-alives loads no zod.
 */
import type { RegisterRequest, UnregisterRequest } from './discovery.js'
import { fromHex, type Identity, sign, toHex, verify } from './identity.js'
import { normalizeUserId } from './user-id.js'

/** A signed request is accepted when its `ts` (ms since the epoch) is this close to the server's clock. */
export const TIMESTAMP_WINDOW_MS = 30_000

/** Pure: does a registered address take direct connections? */
export function isDirectlyReachable(address: { port: number }): boolean {
  return address.port > 0
}

export type SignedAction = 'register' | 'keepalive' | 'unregister'

type Unsigned<T> = Omit<T, 'sig'>
/** What a keep-alive or unregister proof covers. */
export type LeaseBody = { userId: string; ts: number; instance?: string }

/**
 * The bytes a request's `sig` covers: a domain tag naming the action, then the fields in a fixed
 * order, as a JSON array. A fixed order means no canonical-JSON library is needed, and the tag
 * means a keep-alive signature can never be replayed as an unregister.
 */
export function canonicalBytes(action: 'register', body: Unsigned<RegisterRequest>): Buffer
export function canonicalBytes(action: 'keepalive' | 'unregister', body: LeaseBody): Buffer
export function canonicalBytes(action: SignedAction, body: Unsigned<RegisterRequest> | LeaseBody): Buffer {
  const userId = normalizeUserId(body.userId)
  const fields =
    action === 'register' && 'publicKey' in body ? [userId, body.publicKey, body.host ?? null, body.port, body.ts] : [userId, body.ts]
  // Appended only when present, so requests without it keep the bytes they always had.
  if (body.instance !== undefined) fields.push(body.instance)
  return Buffer.from(JSON.stringify([`p2p/v1/${action}`, ...fields]), 'utf8')
}

export function signRegister(
  identity: Identity,
  fields: { userId: string; port: number; host?: string; instance?: string; ts: number },
): RegisterRequest {
  const body = {
    userId: normalizeUserId(fields.userId),
    publicKey: toHex(identity.publicKey),
    port: fields.port,
    ts: fields.ts,
    ...(fields.host ? { host: fields.host } : {}),
    ...(fields.instance ? { instance: fields.instance } : {}),
  }
  return { ...body, sig: toHex(sign(identity, canonicalBytes('register', body))) }
}

export function signLeaseRequest(
  identity: Identity,
  action: 'keepalive' | 'unregister',
  fields: { userId: string; ts: number; instance?: string },
): UnregisterRequest {
  const body = { userId: normalizeUserId(fields.userId), ts: fields.ts, ...(fields.instance ? { instance: fields.instance } : {}) }
  return { ...body, sig: toHex(sign(identity, canonicalBytes(action, body))) }
}

export function verifySigned(action: SignedAction, body: RegisterRequest | (LeaseBody & { sig: string }), publicKeyHex: string): boolean {
  const bytes = action === 'register' ? canonicalBytes('register', body as RegisterRequest) : canonicalBytes(action, body)
  return verify(fromHex(publicKeyHex), bytes, fromHex(body.sig))
}

/** Pure: is `ts` inside the accepted window around `now`? */
export function isFreshTimestamp(ts: number, now: number, windowMs = TIMESTAMP_WINDOW_MS): boolean {
  return Math.abs(now - ts) <= windowMs
}
