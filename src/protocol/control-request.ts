/**
 * Control requests checked without zod, so that a daemon answering only these never loads it
 * (BENCHMARKS.md, B9): `send` (send-request.ts, the request sent most) and what the one-shot
 * commands an idle daemon meets send: `status` (`p2p daemon status`, `daemon start` waiting for
 * the daemon), `peers`, `discover`, `shutdown` (`daemon stop`), `history`, `subscribe` (`p2p
 * watch`, chat), `block`, `unblock`, `unmute` (`mute` and `trust` parse a duration and a
 * fingerprint: left to zod). Like parseSendRequest it accepts only what the schemas
 * (RpcRequestSchema, MethodParams) accept and answers the same data; anything else, valid or
 * not, is left to zod, which also words the errors. A unit test feeds both the same inputs.
 */
import { CURSOR_PATTERN, MAX_HISTORY_LIMIT } from './defaults.js'
import { type FastSendRequest, isPlainObject, isRequestId, parseSendRequest } from './send-request.js'
import { isValidUserId, normalizeUserId } from './user-id.js'

type RequestId = string | number | null | undefined

export type FastControlRequest =
  | FastSendRequest
  | { id: RequestId; method: 'status'; params: { verbose?: boolean } | undefined }
  | { id: RequestId; method: 'peers' | 'discover' | 'shutdown'; params: Record<string, never> | undefined }
  | { id: RequestId; method: 'history'; params: { peer?: string; limit?: number; includeMuted?: boolean } | undefined }
  | { id: RequestId; method: 'subscribe'; params: { since?: string } | undefined }
  | { id: RequestId; method: 'block' | 'unblock' | 'unmute'; params: { peer: string } }

/** Not sure: left to the schemas. */
const UNSURE = false

const isUserId = (value: unknown): value is string => typeof value === 'string' && isValidUserId(value)
const isLimit = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= MAX_HISTORY_LIMIT
const isCursor = (value: unknown) => typeof value === 'string' && CURSOR_PATTERN.test(value)

/**
 * Pure: every optional key of `params` absent or passing its check. JSON has no undefined, so a
 * key set to undefined (which zod would keep) is left to the schemas: past this, undefined means absent.
 */
function optionalKeysOk(params: Record<string, unknown>, checks: Record<string, (value: unknown) => boolean>): boolean {
  for (const [key, check] of Object.entries(checks)) if (Object.hasOwn(params, key) && !check(params[key])) return false
  return true
}

/** `z.object({}).optional()`: nothing, or any object, which loses its keys. */
const noParams = (params: unknown) => (params === undefined ? undefined : isPlainObject(params) ? {} : UNSURE)

/** Each method's params as its schema (rpc.ts, MethodParams) has them, or UNSURE. */
const PARAMS: Record<string, (params: unknown) => unknown> = {
  status: (params) => {
    if (params === undefined) return undefined
    if (!isPlainObject(params) || !optionalKeysOk(params, { verbose: (v) => typeof v === 'boolean' })) return UNSURE
    return params.verbose === undefined ? {} : { verbose: params.verbose }
  },
  peers: noParams,
  discover: noParams,
  shutdown: noParams,
  history: (params) => {
    if (params === undefined) return undefined
    if (!isPlainObject(params)) return UNSURE
    if (!optionalKeysOk(params, { peer: isUserId, limit: isLimit, includeMuted: (v) => typeof v === 'boolean' })) return UNSURE
    const { peer, limit, includeMuted } = params
    return {
      ...(peer === undefined ? {} : { peer: normalizeUserId(peer as string) }),
      ...(limit === undefined ? {} : { limit }),
      ...(includeMuted === undefined ? {} : { includeMuted }),
    }
  },
  subscribe: (params) => {
    if (params === undefined) return undefined
    if (!isPlainObject(params) || !optionalKeysOk(params, { since: isCursor })) return UNSURE
    return params.since === undefined ? {} : { since: params.since }
  },
  block: peerParams,
  unblock: peerParams,
  unmute: peerParams,
}

/** `{ peer: UserId }`. */
function peerParams(params: unknown) {
  return isPlainObject(params) && isUserId(params.peer) ? { peer: normalizeUserId(params.peer) } : UNSURE
}

/** Pure: a well-formed request of one of the methods above, or undefined for zod to decide. */
export function parseControlRequest(raw: unknown): FastControlRequest | undefined {
  if (!isPlainObject(raw)) return undefined
  const { method } = raw
  if (method === 'send') return parseSendRequest(raw)
  const { jsonrpc, id, params } = raw
  if (jsonrpc !== '2.0' || !isRequestId(id) || typeof method !== 'string' || !Object.hasOwn(PARAMS, method)) return undefined
  const parsed = PARAMS[method]!(params)
  return parsed === UNSURE ? undefined : ({ id, method, params: parsed } as FastControlRequest)
}
