/**
 * The bytes a signed mailbox request covers, and signing them (SPEC section 10). Apart from the
 * schemas (mailbox.ts, which re-exports this) so that a daemon fetching its mailbox loads no zod.
 */
import { type Identity, sign, toHex } from './identity.js'
import type { DeleteRequest, FetchRequest } from './mailbox.js'
import { normalizeUserId } from './user-id.js'

type Unsigned<T> = Omit<T, 'sig'>

/** The bytes a fetch's `sig` covers: the action tag, then the fields in a fixed order (as discovery.ts). */
export function fetchBytes(body: Unsigned<FetchRequest>): Buffer {
  const fields = ['p2p/v1/mailbox-fetch', normalizeUserId(body.userId), body.ts, body.after ?? null, body.limit ?? null]
  return Buffer.from(JSON.stringify(fields), 'utf8')
}

export function deleteBytes(body: Unsigned<DeleteRequest>): Buffer {
  return Buffer.from(JSON.stringify(['p2p/v1/mailbox-delete', normalizeUserId(body.userId), body.ts, ...body.ids]), 'utf8')
}

export function signFetch(identity: Identity, fields: Unsigned<FetchRequest>): FetchRequest {
  const body = {
    userId: normalizeUserId(fields.userId),
    ts: fields.ts,
    ...(fields.after !== undefined ? { after: fields.after } : {}),
    ...(fields.limit !== undefined ? { limit: fields.limit } : {}),
  }
  return { ...body, sig: toHex(sign(identity, fetchBytes(body))) }
}

export function signDelete(identity: Identity, fields: Unsigned<DeleteRequest>): DeleteRequest {
  const body = { userId: normalizeUserId(fields.userId), ids: fields.ids, ts: fields.ts }
  return { ...body, sig: toHex(sign(identity, deleteBytes(body))) }
}
