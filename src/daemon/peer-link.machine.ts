/**
 * One actor per peer: owns the single link to that peer, used both ways.
 *
 *   idle --WAKE--> dialing --ok--> connected --close, messages waiting--> waiting --after backoff--> dialing
 *     ^               \--fail--> waiting                \--close, nothing waiting--> idle
 *     \--INCOMING (from any state but stopped) --> connected
 *   BLOCK / STOP --> stopped (final): the link is closed.
 *   idle for idleLifetimeMs --> retired (final): the supervisor drops the actor.
 *
 * Frames never pass through this machine: the link manager decodes them and feeds the message
 * pipeline directly. The machine decides only when to dial, which connection to keep, and when a
 * silent link is dead.
 */
import { assign, fromPromise, not, setup } from 'xstate'
import { type BackoffPolicy, backoffDelay } from './backoff.js'

/** What the machine needs of a connection: PeerConnection satisfies it; tests pass fakes. */
export interface LinkConnection {
  readonly initiatorKey: string
  readonly lastReceivedAt: number
  readonly closed: boolean
  close(reason: string): void
  ping(): void
}

export interface LinkDeps {
  myKey: string
  backoff: BackoffPolicy
  pingIntervalMs: number
  /** A link that has received nothing for this long is dead (pings are answered, so this is silence). */
  deadAfterMs: number
  /** An actor idle this long retires (its supervisor forgets it and makes a new one when needed). */
  idleLifetimeMs: number
  dial(peerId: string, signal: AbortSignal): Promise<LinkConnection>
  hasQueued(peerId: string): boolean
  /** Messages sent on the link have waited for their acks for too long. */
  isStalled(peerId: string): boolean
  /** The link is up on `conn` (also after a switch to a better connection). */
  linkUp(peerId: string, conn: LinkConnection): void
  /** The link is down; `reason` says why (dial failure or close). */
  linkDown(peerId: string, reason: string): void
  /** Sends what waits in the outbox over the current link. */
  pump(peerId: string): void
}

export interface LinkInput {
  peerId: string
  deps: LinkDeps
}

interface LinkContext extends LinkInput {
  conn: LinkConnection | null
  attempt: number
}

export type LinkEvent =
  | { type: 'WAKE' }
  | { type: 'INCOMING'; conn: LinkConnection }
  | { type: 'CONN_CLOSED'; conn: LinkConnection; reason: string }
  | { type: 'BLOCK' }
  | { type: 'STOP' }

/**
 * Pure tie-break: should `candidate` replace `current` (null while dialing, when `myKey` stands for
 * my own dial)? Both sides keep the connection dialed by the smaller key; a peer dialing again
 * replaces its own older connection (it restarted, or lost the old one).
 */
export function candidateWins(candidate: { initiatorKey: string }, current: { initiatorKey: string } | null, myKey: string): boolean {
  const currentInitiator = current ? current.initiatorKey : myKey
  if (candidate.initiatorKey === currentInitiator) return true
  return candidate.initiatorKey < currentInitiator
}

const conn = (event: LinkEvent) => (event as { conn: LinkConnection }).conn

export const peerLinkMachine = setup({
  types: {
    context: {} as LinkContext,
    input: {} as LinkInput,
    events: {} as LinkEvent,
  },
  actors: {
    dial: fromPromise<LinkConnection, LinkInput>(({ input, signal }) => input.deps.dial(input.peerId, signal)),
  },
  delays: {
    retryDelay: ({ context }) => backoffDelay(context.attempt, context.deps.backoff),
    pingInterval: ({ context }) => context.deps.pingIntervalMs,
    idleLifetime: ({ context }) => context.deps.idleLifetimeMs,
  },
  guards: {
    hasQueued: ({ context }) => context.deps.hasQueued(context.peerId),
    isCurrent: ({ context, event }) => conn(event) === context.conn,
    incomingWins: ({ context, event }) => candidateWins(conn(event), context.conn, context.deps.myKey),
    isUnresponsive: ({ context }) =>
      context.conn !== null &&
      (Date.now() - context.conn.lastReceivedAt > context.deps.deadAfterMs || context.deps.isStalled(context.peerId)),
  },
  actions: {
    adopt: assign(({ context, event }) => {
      const next = conn(event)
      if (context.conn && context.conn !== next) context.conn.close('replaced by a newer link')
      return { conn: next, attempt: 0 }
    }),
    adoptDialed: assign(({ event }) => ({ conn: (event as unknown as { output: LinkConnection }).output, attempt: 0 })),
    reject: ({ event }) => conn(event).close('a link to this peer already exists'),
    linkUp: ({ context }) => context.conn && context.deps.linkUp(context.peerId, context.conn),
    pump: ({ context }) => context.deps.pump(context.peerId),
    ping: ({ context }) => context.conn?.ping(),
    closeUnresponsive: ({ context }) => context.conn?.close('no answer to pings or messages'),
    dialFailed: assign(({ context, event }) => {
      const reason = String((event as { error?: { message?: string } }).error?.message ?? 'dial failed')
      context.deps.linkDown(context.peerId, reason)
      return { attempt: context.attempt + 1 }
    }),
    dropped: assign(({ context, event }) => {
      context.deps.linkDown(context.peerId, (event as { reason?: string }).reason ?? 'closed')
      return { conn: null }
    }),
    closeLink: assign(({ context }) => {
      context.conn?.close('link closed by this daemon')
      return { conn: null }
    }),
  },
}).createMachine({
  id: 'peerLink',
  context: ({ input }) => ({ ...input, conn: null, attempt: 0 }),
  initial: 'idle',
  on: {
    BLOCK: '.stopped',
    STOP: '.stopped',
  },
  states: {
    idle: {
      // Thousands of peers met once should not mean thousands of actors kept forever.
      after: { idleLifetime: 'retired' },
      on: {
        WAKE: 'dialing',
        INCOMING: { target: 'connected', actions: 'adopt' },
      },
    },
    retired: { type: 'final' },
    dialing: {
      invoke: {
        src: 'dial',
        input: ({ context }) => ({ peerId: context.peerId, deps: context.deps }),
        onDone: { target: 'connected', actions: 'adoptDialed' },
        onError: { target: 'waiting', actions: 'dialFailed' },
      },
      on: {
        // Both sides dialed at once: keep the connection the smaller key dialed (leaving this
        // state aborts our own dial).
        INCOMING: [{ guard: 'incomingWins', target: 'connected', actions: 'adopt' }, { actions: 'reject' }],
      },
    },
    connected: {
      entry: ['linkUp'],
      exit: 'closeLink',
      initial: 'live',
      states: {
        live: {
          after: {
            pingInterval: [
              { guard: 'isUnresponsive', actions: 'closeUnresponsive' },
              { target: 'live', reenter: true, actions: 'ping' },
            ],
          },
        },
      },
      on: {
        WAKE: { actions: 'pump' },
        INCOMING: [{ guard: 'incomingWins', target: 'connected', reenter: true, actions: 'adopt' }, { actions: 'reject' }],
        CONN_CLOSED: [
          { guard: not('isCurrent') },
          { guard: 'hasQueued', target: 'waiting', actions: 'dropped' },
          { target: 'idle', actions: 'dropped' },
        ],
      },
    },
    waiting: {
      after: { retryDelay: 'dialing' },
      on: {
        // Someone wants to send now: try at once rather than wait out the backoff.
        WAKE: 'dialing',
        INCOMING: { target: 'connected', actions: 'adopt' },
      },
    },
    stopped: { type: 'final' },
  },
})
