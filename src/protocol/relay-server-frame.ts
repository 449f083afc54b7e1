/**
 * The relay server's frames as the daemon reads them, checked without zod: a registered daemon
 * keeps its relay connection all day (challenge, ready, and a pong per ping), so an idle daemon
 * would otherwise load zod for it (BENCHMARKS.md, B9). The check accepts only what
 * RelayServerFrameSchema accepts and answers the same data, unknown keys dropped; what it is not
 * sure of (a frame with a `url`, anything malformed) goes to the schema, loaded then. A unit test
 * feeds both the same inputs.
 */
import { relaySchemas } from './load-schemas.js'
import type { RelayServerFrame } from './relay.js'
import { isPlainObject } from './send-request.js'

const HEX_32 = /^[0-9a-f]{64}$/
const TOKEN = /^[A-Za-z0-9_-]{16,64}$/

const isCircuitId = (id: unknown): id is string => typeof id === 'string' && id.length >= 1 && id.length <= 64
const isToken = (token: unknown): token is string => typeof token === 'string' && TOKEN.test(token)
const codeAndMessage = (raw: Record<string, unknown>) =>
  typeof raw.code === 'string' && typeof raw.message === 'string' ? { code: raw.code, message: raw.message } : undefined

/** Pure: a well-formed server frame, or undefined for the schema to decide. */
export function wellFormedRelayServerFrame(raw: unknown): RelayServerFrame | undefined {
  // `url` is for several instances on one Redis; its check (a URL parse) stays the schema's.
  if (!isPlainObject(raw) || Object.hasOwn(raw, 'url')) return undefined
  switch (raw.t) {
    case 'pong':
      return { t: 'pong' }
    case 'challenge':
      return typeof raw.nonce === 'string' && HEX_32.test(raw.nonce) ? { t: 'challenge', nonce: raw.nonce } : undefined
    case 'ready':
      return typeof raw.userId === 'string' ? { t: 'ready', userId: raw.userId } : undefined
    case 'dial_ok':
      return isCircuitId(raw.id) && isToken(raw.token) ? { t: 'dial_ok', id: raw.id, token: raw.token } : undefined
    case 'incoming': {
      const { from, fromKey, token } = raw
      return typeof from === 'string' && typeof fromKey === 'string' && HEX_32.test(fromKey) && isToken(token)
        ? { t: 'incoming', from, fromKey, token }
        : undefined
    }
    case 'dial_failed': {
      const rest = codeAndMessage(raw)
      return rest && isCircuitId(raw.id) ? { t: 'dial_failed', id: raw.id, ...rest } : undefined
    }
    case 'error': {
      const rest = codeAndMessage(raw)
      return rest ? { t: 'error', ...rest } : undefined
    }
    default:
      return undefined
  }
}

/** Pure: one line from the relay as a server frame, or undefined when it is not one. */
export function decodeRelayServerLine(line: string): RelayServerFrame | undefined {
  let raw: unknown
  try {
    raw = JSON.parse(line)
  } catch {
    return undefined
  }
  const fast = wellFormedRelayServerFrame(raw)
  if (fast) return fast
  const parsed = relaySchemas().RelayServerFrameSchema.safeParse(raw)
  return parsed.success ? parsed.data : undefined
}
