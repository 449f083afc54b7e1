/**
 * How one instance's relay reaches daemons whose control connection is on another instance of the
 * namespace. The circuit always meets on the dialed peer's instance (its relay home), so a splice
 * stays inside one process: the dialer's instance only forwards the pairing and tells its daemon
 * where to open its end (`dial_ok.url`).
 *
 * One instance (SQLite, memory) has no neighbours: `localOnly()`. Several on Redis: see
 * redis-relay-neighbours.ts.
 */
import { ErrorCode } from '../../protocol/errors.js'

/** One end of a circuit as the hub knows it: an authenticated user and its key. */
export interface CircuitParty {
  userId: string
  key: string
}

export interface PairRefusal {
  ok: false
  code: string
  message: string
}

/** A pairing forwarded to another instance: the dialer's token there, and that instance's relay address. */
export type PairAnswer = { ok: true; token: string; url: string } | PairRefusal

/** What the hub offers its neighbours: a circuit between a party from elsewhere and a session here (the dialer's token). */
export type HostCircuit = (to: string, from: CircuitParty) => { ok: true; token: string } | PairRefusal

export interface RelayNeighbours {
  /** An authenticated control session of `userId` lives here now (`session` names it). */
  homed(userId: string, session: string): void
  /** That session ended: its record goes, unless a newer session (here or elsewhere) replaced it. */
  left(userId: string, session: string): void
  /** `to` has no session here: ask its home to host the circuit. */
  pair(to: string, from: CircuitParty): Promise<PairAnswer>
  /** Starts answering other instances' pairings with `host`, announcing `url` as this instance's relay address. */
  start(url: string | undefined, host: HostCircuit): Promise<void>
  close(): Promise<void>
}

/** An instance alone, or one that cannot take part (`reason` says why: it is told to the dialer). */
export function localOnly(reason?: string): RelayNeighbours {
  return {
    homed() {},
    left() {},
    async pair(to) {
      const why = reason ? `; ${reason}` : ''
      return { ok: false, code: ErrorCode.PeerUnreachable, message: `${to} has no relay connection here${why}` }
    },
    async start() {},
    async close() {},
  }
}

/** Said once at start and to each dialer it affects: `--redis` without `--relay-url`. */
export const NO_RELAY_URL = 'circuits to daemons on other instances are off: this instance runs with --redis but without --relay-url'
