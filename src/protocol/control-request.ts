/**
 * Control requests checked without zod, so that a daemon answering only these never loads it
 * (BENCHMARKS.md, B9): `send` (send-request.ts, the request sent most) and what the one-shot
 * commands an idle daemon meets send: `status` (`p2p daemon status`, `daemon start` waiting for
 * the daemon), `peers`, `discover`, `shutdown` (`daemon stop`). Like parseSendRequest it accepts
 * only what the schemas (RpcRequestSchema, MethodParams) accept and answers the same data;
 * anything else, valid or not, is left to zod, which also words the errors. A unit test feeds
 * both the same inputs.
 */
import { type FastSendRequest, isPlainObject, isRequestId, parseSendRequest } from './send-request.js'

type RequestId = string | number | null | undefined

export type FastControlRequest =
  | FastSendRequest
  | { id: RequestId; method: 'status'; params: { verbose?: boolean } | undefined }
  | { id: RequestId; method: 'peers' | 'discover' | 'shutdown'; params: Record<string, never> | undefined }

/** `z.object({}).optional()`: nothing, or any object, which loses its keys. */
const noParams = (params: unknown): Record<string, never> | undefined | false =>
  params === undefined ? undefined : isPlainObject(params) ? {} : false

/** `z.object({ verbose: z.boolean().optional() }).optional()`. */
function statusParams(params: unknown): { verbose?: boolean } | undefined | false {
  if (params === undefined) return undefined
  if (!isPlainObject(params)) return false
  const { verbose } = params
  if (verbose === undefined) return Object.hasOwn(params, 'verbose') ? false : {}
  return typeof verbose === 'boolean' ? { verbose } : false
}

/** Pure: a well-formed request of one of the methods above, or undefined for zod to decide. */
export function parseControlRequest(raw: unknown): FastControlRequest | undefined {
  if (!isPlainObject(raw)) return undefined
  const { method } = raw
  if (method === 'send') return parseSendRequest(raw)
  const { jsonrpc, id, params } = raw
  if (jsonrpc !== '2.0' || !isRequestId(id)) return undefined
  if (method === 'status') {
    const parsed = statusParams(params)
    return parsed === false ? undefined : { id, method, params: parsed }
  }
  if (method === 'peers' || method === 'discover' || method === 'shutdown') {
    const parsed = noParams(params)
    return parsed === false ? undefined : { id, method, params: parsed }
  }
  return undefined
}
