/**
 * The daemon's one connection to the relay (SPEC section 9): connect, answer the challenge, keep
 * it alive with pings, and connect again with backoff when it is lost or refused (the server is
 * down, restarting, or does not know us yet because our first registration is still on its way).
 *
 *   connecting --ok--> connected --CLOSED / silent for 3 pings--> waiting --after backoff--> connecting
 *        \--error--> waiting
 *   STOP (any state) --> stopped: the connection is closed.
 *
 * The connection lives in `context.conn`: the relay dialer reads it from this actor's snapshot,
 * the one owner. Connecting is given with `provide()` (services.ts); tests give fakes.
 */
import { assign, fromCallback, fromPromise, setup } from 'xstate'
import { type BackoffPolicy, backoffDelay } from './backoff.js'

/** What the machine needs of a relay connection: RelayControl satisfies it. */
export interface RelayConnection {
  /** The server instance it is to: circuits meet there unless the relay names another. */
  readonly serverUrl: string
  readonly closed: boolean
  readonly lastReceivedAt: number
  ping(): void
  /** Asks for a circuit to a peer: our end's token, and the instance it meets on when not this one. */
  dial(peerId: string, signal: AbortSignal): Promise<{ token: string; url?: string }>
  close(reason?: string): void
  on(event: 'close', listener: (reason: string) => void): unknown
  off(event: 'close', listener: (reason: string) => void): unknown
}

export interface RelayInput {
  backoff: BackoffPolicy
  pingIntervalMs: number
}

interface RelayContext extends RelayInput {
  conn: RelayConnection | null
  attempt: number
  lastError?: string
}

export type RelayEvent = { type: 'STOP' } | { type: 'CLOSED'; reason: string }

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error))

export const relayMachine = setup({
  types: {
    context: {} as RelayContext,
    input: {} as RelayInput,
    events: {} as RelayEvent,
  },
  actors: {
    connect: fromPromise<RelayConnection>(() => Promise.reject(new Error('relay: connect not provided'))),
    /** Reports the connection's end as CLOSED. */
    watch: fromCallback<RelayEvent, { conn: RelayConnection }>(({ input, sendBack }) => {
      const onClose = (reason: string) => sendBack({ type: 'CLOSED', reason })
      input.conn.on('close', onClose)
      if (input.conn.closed) onClose('closed before it was watched')
      return () => input.conn.off('close', onClose)
    }),
  },
  delays: {
    retryDelay: ({ context }) => backoffDelay(context.attempt, context.backoff),
    pingInterval: ({ context }) => context.pingIntervalMs,
  },
  guards: {
    /** Nothing heard (not even a pong) for three ping intervals: the path is dead even if TCP has not noticed. */
    isSilent: ({ context }) => context.conn !== null && Date.now() - context.conn.lastReceivedAt > 3 * context.pingIntervalMs,
  },
  actions: {
    adopt: assign((_, conn: RelayConnection) => ({ conn, attempt: 0, lastError: undefined })),
    recordFailure: assign(({ context }, params: { error: unknown }) => ({
      attempt: context.attempt + 1,
      lastError: describe(params.error),
    })),
    recordLoss: assign((_, params: { reason: string }) => ({ lastError: params.reason })),
    closeConn: ({ context }) => context.conn?.close('relay connection closed by this daemon'),
    forget: assign({ conn: null }),
    ping: ({ context }) => context.conn?.ping(),
  },
}).createMachine({
  id: 'relay',
  context: ({ input }) => ({ ...input, conn: null, attempt: 0 }),
  initial: 'connecting',
  on: { STOP: '.stopped' },
  states: {
    connecting: {
      invoke: {
        src: 'connect',
        onDone: { target: 'connected', actions: { type: 'adopt', params: ({ event }) => event.output } },
        onError: { target: 'waiting', actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    connected: {
      invoke: { src: 'watch', input: ({ context }) => ({ conn: context.conn as RelayConnection }) },
      exit: ['closeConn', 'forget'],
      initial: 'live',
      states: {
        live: {
          after: {
            pingInterval: [
              { guard: 'isSilent', target: '#relay.waiting', actions: { type: 'recordLoss', params: { reason: 'relay silent' } } },
              { target: 'live', reenter: true, actions: 'ping' },
            ],
          },
        },
      },
      on: {
        CLOSED: { target: 'waiting', actions: { type: 'recordLoss', params: ({ event }) => ({ reason: event.reason }) } },
      },
    },
    waiting: {
      after: { retryDelay: 'connecting' },
    },
    stopped: { type: 'final' },
  },
})

export type RelayMachine = typeof relayMachine
