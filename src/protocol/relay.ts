/**
 * The relay's wire format (SPEC section 9), shared by the discovery server and the daemon.
 *
 * Everything runs on the discovery server's own port, as HTTP/1.1 Upgrades (`Upgrade: p2p-relay`),
 * so one address and one firewall rule serve both, and curl can see the refusals:
 *
 *  - `GET /v1/relay`: a daemon's control connection. After `101` it is JSON lines both ways.
 *    The server speaks first with a fresh random challenge; the daemon answers with its user id and
 *    an Ed25519 signature over the challenge, checked against the key the registry binds to that
 *    id. A challenge is made per connection and used once, so a recorded answer replays nothing.
 *  - `GET /v1/relay/circuit/TOKEN`: a fresh connection for one circuit. Each end of a circuit gets
 *    its own one-time token (the dialer in `dial_ok`, the dialed peer in `incoming`), at the
 *    instance the dialed peer's control connection is on (`dial_ok.url` when that is another
 *    instance of the namespace; see src/server/relay/relay-neighbours.ts); once both
 *    ends are in, the server splices the two sockets and only copies bytes. The Noise handshake
 *    runs end to end over the splice, so the relay never holds plaintext, and each daemon checks
 *    the remote key itself: a relay that pairs the wrong sockets gets refused links, nothing more.
 *
 * One TCP connection per circuit (rather than circuits multiplexed on the control connection)
 * keeps flow control per circuit: a peer that stops reading stalls its own circuit only.
 */
import { z } from 'zod'
import { isValidUserId, normalizeUserId } from './user-id.js'

// What needs no zod (the constants, encoding, the challenge's signature, line splitting) is in
// relay-wire.ts, so that the daemon's relay connection loads none.
export {
  encodeRelayFrame,
  MAX_RELAY_LINE_BYTES,
  RELAY_CIRCUIT_PATH,
  RELAY_PATH,
  RELAY_PROTOCOL,
  RelayLineReader,
  relayAuthBytes,
  signRelayChallenge,
  verifyRelayAuth,
} from './relay-wire.js'

const UserId = z.string().refine(isValidUserId, { message: 'invalid user id' }).transform(normalizeUserId)
const Hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`))
const Token = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/)
const CircuitId = z.string().min(1).max(64)
/** An instance's relay address as daemons reach it (`p2p server --relay-url`): http(s) only. */
export const RelayUrlSchema = z
  .string()
  .max(512)
  .refine((s) => {
    try {
      const url = new URL(s)
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
    } catch {
      return false
    }
  })

/** Daemon to server. */
export const RelayClientFrameSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('auth'), userId: UserId, sig: Hex(64) }),
  z.object({ t: z.literal('dial'), id: CircuitId, to: UserId }),
  z.object({ t: z.literal('ping') }),
])

/** Server to daemon. */
export const RelayServerFrameSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('challenge'), nonce: Hex(32) }),
  z.object({ t: z.literal('ready'), userId: z.string() }),
  /**
   * `url` (here and in `incoming`): the instance the circuit meets on, by its own address
   * (`p2p server --relay-url`). Several instances on one Redis: a circuit meets on the dialed
   * peer's instance, and the instance's own address is right even when the control connection
   * came through a load balancer. Absent: the instance this control connection is to.
   */
  z.object({ t: z.literal('dial_ok'), id: CircuitId, token: Token, url: RelayUrlSchema.optional() }),
  z.object({ t: z.literal('dial_failed'), id: CircuitId, code: z.string(), message: z.string() }),
  z.object({ t: z.literal('incoming'), from: z.string(), fromKey: Hex(32), token: Token, url: RelayUrlSchema.optional() }),
  z.object({ t: z.literal('error'), code: z.string(), message: z.string() }),
  z.object({ t: z.literal('pong') }),
])

export type RelayClientFrame = z.infer<typeof RelayClientFrameSchema>
export type RelayServerFrame = z.infer<typeof RelayServerFrameSchema>

/** Pure: one line as a frame of `schema`, or undefined when it is not one. */
export function decodeRelayLine<S extends z.ZodType>(schema: S, line: string): z.output<S> | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(line))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}
