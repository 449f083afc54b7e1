/**
 * One actor per peer: the one owner of the link to that peer, used both ways. Whatever else needs
 * the link (the outbox, `status`, `peers`) reads it from this actor's snapshot (`context.conn`).
 *
 *   idle --WAKE--> dialing --ok--> connected --close, messages waiting--> waiting --after backoff--> dialing
 *     ^               \--fail--> waiting                \--close, nothing waiting--> idle
 *   waiting --WAKE (a send)--> dialing; after a failed dial, not before a short hold-off has passed
 *     \--INCOMING (from any state but stopped) --> connected
 *   REDIAL (a key was just trusted) --> dialing, abandoning a dial made with the old key
 *   connected through the relay: a direct link is tried in the background (direct-upgrade.machine.ts)
 *     and, once up, replaces the relayed one (connected is entered again with it)
 *   BLOCK / STOP --> stopped (final): the link is closed.
 *   idle for idleLifetime --> retired (final): the supervisor drops the actor.
 *
 * Frames never pass through this machine: the frame router decodes them and feeds the message
 * pipeline directly. The machine decides only when to dial, which connection to keep, and when a
 * silent link is dead. Its effects (dialing, telling the outbox, the timings) are placeholders
 * here and are given once by the supervisor with `peerLinkMachine.provide()`; tests give fakes.
 */
import { assign, fromPromise, setup } from 'xstate'
import { backoffDelay } from './backoff.js'
import { directUpgradeMachine } from './direct-upgrade.machine.js'

/** What the machine needs of a connection: PeerConnection satisfies it; tests pass fakes. */
export interface LinkConnection {
  readonly initiatorKey: string
  readonly lastReceivedAt: number
  readonly closed: boolean
  /** Through the relay or not; a fake without it counts as direct. */
  readonly link?: 'direct' | 'relayed'
  close(reason: string): void
  ping(): void
}

export interface LinkInput {
  peerId: string
  /** My public key (hex): the tie-break when both sides dial at once. */
  myKey: string
}

export interface LinkContext extends LinkInput {
  conn: LinkConnection | null
  attempt: number
  /** Something was sent while `waiting` held off: dial when the hold-off ends. */
  woken: boolean
}

export type LinkEvent =
  | { type: 'WAKE' }
  | { type: 'REDIAL' }
  | { type: 'INCOMING'; conn: LinkConnection }
  | { type: 'CONN_CLOSED'; conn: LinkConnection; reason: string }
  | { type: 'BLOCK' }
  | { type: 'STOP' }

type Candidate = { initiatorKey: string; link?: 'direct' | 'relayed' | undefined }

/**
 * Pure tie-break: should `candidate` replace `current` (null while dialing, when `myKey` stands for
 * my own dial)? A peer dialing again replaces its own older connection (it restarted, or lost the
 * old one); else a direct link beats a relayed one (both sides see the same two kinds); else both
 * sides keep the connection dialed by the smaller key.
 */
export function candidateWins(candidate: Candidate, current: Candidate | null, myKey: string): boolean {
  const currentInitiator = current ? current.initiatorKey : myKey
  if (candidate.initiatorKey === currentInitiator) return true
  const relayed = (c: Candidate) => c.link === 'relayed'
  if (current && relayed(candidate) !== relayed(current)) return relayed(current)
  return candidate.initiatorKey < currentInitiator
}

/** Pure: why the link being left is closed, from the event that leaves it. */
function leavingReason(event: { type: string }): string {
  if (event.type === 'INCOMING') return 'replaced by a newer link'
  if (event.type.startsWith('xstate.done.actor')) return 'moved to a direct link'
  return 'link closed by this daemon'
}

const notProvided = (what: string) => () => {
  throw new Error(`peer link: ${what} not provided`)
}

type PeerParams = { peerId: string }
type LinkParams = { peerId: string; conn: LinkConnection }

export const peerLinkMachine = setup({
  types: {
    context: {} as LinkContext,
    input: {} as LinkInput,
    events: {} as LinkEvent,
  },
  actors: {
    dial: fromPromise<LinkConnection, PeerParams>(notProvided('dial')),
    upgrade: directUpgradeMachine,
  },
  delays: {
    // Defaults for a machine used without provide(); the supervisor gives the daemon's tuning.
    retryDelay: ({ context }) => backoffDelay(context.attempt, { baseMs: 500, maxMs: 15_000 }),
    wakeHoldoff: 500,
    pingInterval: 15_000,
    idleLifetime: 10 * 60_000,
  },
  guards: {
    hasQueued: (_, _params: PeerParams) => false,
    /** The link has heard nothing for too long, or its messages wait too long for acks. */
    isUnresponsive: (_, _params: LinkParams) => false,
    /** An event about a connection that is no longer (or never was) this link's. */
    isStale: ({ context }, params: { conn: LinkConnection }) => params.conn !== context.conn,
    candidateWins: ({ context }, params: { conn: LinkConnection }) => candidateWins(params.conn, context.conn, context.myKey),
    woken: ({ context }) => context.woken,
    /** `waiting` was entered from a dial that failed, not from a link that was up. */
    dialFailed: ({ context }) => context.attempt > 0,
  },
  actions: {
    // Effects the supervisor provides: telling the outbox and the log.
    linkUp: (_, _params: LinkParams) => {},
    linkDown: (_, _params: PeerParams & { reason: string; error?: unknown }) => {},
    pump: (_, _params: LinkParams) => {},

    adopt: assign((_, params: { conn: LinkConnection }) => ({ conn: params.conn, attempt: 0 })),
    forget: assign({ conn: null }),
    countFailure: assign({ attempt: ({ context }) => context.attempt + 1 }),
    noteWake: assign({ woken: true }),
    clearWake: assign({ woken: false }),
    close: (_, params: { conn: LinkConnection | null; reason: string }) => params.conn?.close(params.reason),
    ping: (_, params: { conn: LinkConnection | null }) => params.conn?.ping(),
  },
}).createMachine({
  id: 'peerLink',
  context: ({ input }) => ({ ...input, conn: null, attempt: 0, woken: false }),
  initial: 'idle',
  on: {
    BLOCK: { target: '.stopped', actions: { type: 'linkDown', params: ({ context }) => ({ peerId: context.peerId, reason: 'blocked' }) } },
    STOP: '.stopped',
  },
  states: {
    idle: {
      // Thousands of peers met once should not mean thousands of actors kept forever.
      after: { idleLifetime: 'retired' },
      on: {
        WAKE: 'dialing',
        REDIAL: 'dialing',
        INCOMING: { target: 'connected', actions: { type: 'adopt', params: ({ event }) => ({ conn: event.conn }) } },
      },
    },
    retired: { type: 'final' },
    dialing: {
      invoke: {
        src: 'dial',
        input: ({ context }) => ({ peerId: context.peerId }),
        onDone: { target: 'connected', actions: { type: 'adopt', params: ({ event }) => ({ conn: event.output }) } },
        onError: {
          target: 'waiting',
          actions: [
            'countFailure',
            {
              type: 'linkDown',
              params: ({ context, event }) => ({
                peerId: context.peerId,
                reason: event.error instanceof Error ? event.error.message : 'dial failed',
                error: event.error,
              }),
            },
          ],
        },
      },
      on: {
        // Re-entering abandons the dial in flight (its signal aborts; its result is ignored).
        REDIAL: { target: 'dialing', reenter: true },
        // Both sides dialed at once: keep the connection the smaller key dialed (leaving this
        // state aborts our own dial).
        INCOMING: [
          {
            guard: { type: 'candidateWins', params: ({ event }) => ({ conn: event.conn }) },
            target: 'connected',
            actions: { type: 'adopt', params: ({ event }) => ({ conn: event.conn }) },
          },
          { actions: { type: 'close', params: ({ event }) => ({ conn: event.conn, reason: 'a link to this peer already exists' }) } },
        ],
      },
    },
    connected: {
      entry: { type: 'linkUp', params: ({ context }) => ({ peerId: context.peerId, conn: context.conn as LinkConnection }) },
      exit: [{ type: 'close', params: ({ context, event }) => ({ conn: context.conn, reason: leavingReason(event) }) }, 'forget'],
      invoke: {
        src: 'upgrade',
        input: ({ context }) => ({ peerId: context.peerId, relayed: context.conn?.link === 'relayed' }),
        // Entered again: the relayed link is closed on the way out, the direct one comes up on the way in.
        onDone: { target: 'connected', reenter: true, actions: { type: 'adopt', params: ({ event }) => ({ conn: event.output }) } },
      },
      initial: 'live',
      states: {
        live: {
          after: {
            pingInterval: [
              {
                guard: {
                  type: 'isUnresponsive',
                  params: ({ context }) => ({ peerId: context.peerId, conn: context.conn as LinkConnection }),
                },
                actions: { type: 'close', params: ({ context }) => ({ conn: context.conn, reason: 'no answer to pings or messages' }) },
              },
              { target: 'live', reenter: true, actions: { type: 'ping', params: ({ context }) => ({ conn: context.conn }) } },
            ],
          },
        },
      },
      on: {
        WAKE: { actions: { type: 'pump', params: ({ context }) => ({ peerId: context.peerId, conn: context.conn as LinkConnection }) } },
        INCOMING: [
          {
            // A newer connection wins: entered again, the old one is closed (as "replaced"), the
            // outbox starts over on the new one, and the background upgrade looks at its kind.
            guard: { type: 'candidateWins', params: ({ event }) => ({ conn: event.conn }) },
            target: 'connected',
            reenter: true,
            actions: { type: 'adopt', params: ({ event }) => ({ conn: event.conn }) },
          },
          { actions: { type: 'close', params: ({ event }) => ({ conn: event.conn, reason: 'a link to this peer already exists' }) } },
        ],
        CONN_CLOSED: [
          { guard: { type: 'isStale', params: ({ event }) => ({ conn: event.conn }) } },
          {
            guard: { type: 'hasQueued', params: ({ context }) => ({ peerId: context.peerId }) },
            target: 'waiting',
            actions: { type: 'linkDown', params: ({ context, event }) => ({ peerId: context.peerId, reason: event.reason }) },
          },
          {
            target: 'idle',
            actions: { type: 'linkDown', params: ({ context, event }) => ({ peerId: context.peerId, reason: event.reason }) },
          },
        ],
      },
    },
    waiting: {
      entry: 'clearWake',
      // The backoff's timer runs across both substates.
      after: { retryDelay: 'dialing' },
      initial: 'entered',
      states: {
        // A link that was up just closed: a send dials at once, as before any failure.
        entered: { always: [{ guard: 'dialFailed', target: 'holding' }, { target: 'ready' }] },
        // A dial just failed: a send does not dial again at once, or a stream of sends to an
        // offline peer is a lookup at the server per send (about a hundred a second); it dials
        // once this ends.
        holding: {
          after: { wakeHoldoff: [{ guard: 'woken', target: '#peerLink.dialing' }, { target: 'ready' }] },
          on: { WAKE: { actions: 'noteWake' } },
        },
        // Someone wants to send now: try at once rather than wait out the backoff.
        ready: { on: { WAKE: '#peerLink.dialing' } },
      },
      on: {
        REDIAL: 'dialing',
        INCOMING: { target: 'connected', actions: { type: 'adopt', params: ({ event }) => ({ conn: event.conn }) } },
      },
    },
    stopped: { type: 'final' },
  },
})

export type PeerLinkMachine = typeof peerLinkMachine
