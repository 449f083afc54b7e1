/**
 * The control request sent most, `send`, checked without zod: under load the two schema parses
 * per request were about 4% of the sender's CPU (BENCHMARKS.md, B1). It accepts only what the
 * schemas (RpcRequestSchema, MethodParams.send) accept, and answers the same data; anything it
 * is not sure of, valid or not, it leaves to zod, which also words the errors. A unit test feeds
 * both the same inputs.
 */
import { MAX_SEND_TIMEOUT_S } from './defaults.js'
import { MAX_TEXT_BYTES } from './limits.js'
import { isValidUserId, normalizeUserId } from './user-id.js'

export interface FastSendRequest {
  id: string | number | null | undefined
  method: 'send'
  params: { to: string; text: string; timeout?: number }
}

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Pure: an id as RpcRequestSchema takes it (absent for a notification). */
export const isRequestId = (id: unknown): id is string | number | null | undefined =>
  id === undefined || id === null || typeof id === 'number' || (typeof id === 'string' && id.length <= 128)

/** Pure: a well-formed `send` request, or undefined for zod to decide. */
export function parseSendRequest(raw: unknown): FastSendRequest | undefined {
  if (!isPlainObject(raw) || raw.jsonrpc !== '2.0' || raw.method !== 'send') return undefined
  const { id, params } = raw
  if (!isRequestId(id)) return undefined
  if (!isPlainObject(params)) return undefined
  const { to, text, timeout } = params
  if (typeof to !== 'string' || !isValidUserId(to)) return undefined
  // Most texts are short: counting UTF-8 bytes is needed only when 3 bytes per unit could pass the cap.
  if (
    typeof text !== 'string' ||
    text.length === 0 ||
    (text.length * 3 > MAX_TEXT_BYTES && Buffer.byteLength(text, 'utf8') > MAX_TEXT_BYTES)
  )
    return undefined
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 0 && timeout <= MAX_SEND_TIMEOUT_S)) return undefined
  return {
    id,
    method: 'send',
    params: timeout === undefined ? { to: normalizeUserId(to), text } : { to: normalizeUserId(to), text, timeout },
  }
}
