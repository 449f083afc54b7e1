/**
 * What instances on one Redis tell each other about the relay (see redis-relay-neighbours.ts):
 * the record of where a user's relay connection lives (its home), and the messages of a pairing
 * forwarded from the dialer's instance to the dialed peer's. Both cross a process boundary, so
 * both are checked with a schema when read; pure functions only.
 */
import { z } from 'zod'
import { decodeRelayLine, RelayUrlSchema } from '../../protocol/relay.js'

/** Where one user's relay control connection is: the instance, its address for daemons, and which session. */
export interface RelayHome {
  instance: string
  url: string
  /** The session that wrote it: a closing session deletes only its own record, never a newer one's. */
  session: string
}

const InstanceId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/)
const HomeSchema = z.object({ i: InstanceId, u: RelayUrlSchema, s: z.string().min(1).max(64) })

/** In the user's slot (hash tag), beside the lease hash `p2p:u:{USER}` (redis-registry.ts). */
export const homeKey = (userId: string) => `p2p:rh:{${userId}}`
/** One Pub/Sub channel per instance: pairings for daemons homed there, and answers to its own. */
export const instanceChannel = (instance: string) => `p2p:relay:${instance}`

/** Pure: the stored form of a home (compared byte for byte by the delete and refresh scripts). */
export function encodeHome(home: RelayHome): string {
  return JSON.stringify({ i: home.instance, u: home.url, s: home.session })
}

/** Pure: a home from its stored form, or undefined for nothing or anything malformed. */
export function decodeHome(text: string | null | undefined): RelayHome | undefined {
  const parsed = text ? decodeRelayLine(HomeSchema, text) : undefined
  return parsed ? { instance: parsed.i, url: parsed.u, session: parsed.s } : undefined
}

const UserIdText = z.string().min(1).max(32)
const RequestId = z.string().min(1).max(64)
const Token = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/)

/**
 * Between instances. `pair`: the dialer's instance asks the dialed peer's home to host a circuit
 * (the home checks its limits and sends `incoming`); the home answers on the asker's channel with
 * `paired` (the dialer's token, and where to open it) or `refused`.
 */
export const RelayBusMessageSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('pair'),
    rid: RequestId,
    reply: InstanceId,
    to: UserIdText,
    from: UserIdText,
    fromKey: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  z.object({ t: z.literal('paired'), rid: RequestId, token: Token, url: RelayUrlSchema }),
  z.object({ t: z.literal('refused'), rid: RequestId, code: z.string().max(64), message: z.string().max(1024) }),
])

export type RelayBusMessage = z.infer<typeof RelayBusMessageSchema>

/** Pure. */
export function encodeBusMessage(message: RelayBusMessage): string {
  return JSON.stringify(message)
}

/** Pure: a bus message, or undefined for anything else (ignored by the receiver). */
export function decodeBusMessage(text: string): RelayBusMessage | undefined {
  return decodeRelayLine(RelayBusMessageSchema, text)
}

/**
 * Pure: the relay URL an instance announces, with a port of 0 standing for the port it really
 * listens on (`--port 0 --relay-url http://127.0.0.1:0`, as tests run it). Undefined stays so.
 */
export function resolveRelayUrl(raw: string | undefined, listeningPort: number): string | undefined {
  if (raw === undefined) return undefined
  const url = new URL(raw)
  if (url.port === '0') url.port = String(listeningPort)
  return url.href.replace(/\/$/, '')
}
