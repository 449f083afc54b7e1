/**
 * The daemon's presence on the discovery server: register, keep the lease alive every ttl/3,
 * register again by itself when the lease is gone (404) or the server forgot us, back off while the
 * server is down (the daemon keeps working meanwhile), unregister on STOP.
 *
 *   registering --ok--> registered (keep-alive child renews every ttl/3) --LEASE_GONE--> registering
 *        ^  \--error--> waiting --after backoff--/          \--KEEPALIVE_FAILED--> waiting
 *        |
 *   STOP (any state) --> unregistering --> stopped
 *
 * The requests are actors given with `provide()` (discoveryMachineFor does it for a DiscoveryApi);
 * each gets the AbortSignal of its actor, so STOP abandons a request in flight instead of waiting
 * out its timeout. An abandoned request reports nothing: its actor is already stopped.
 */
import { assign, fromPromise, setup } from 'xstate'
import { type BackoffPolicy, backoffDelay } from './backoff.js'
import { type KeepaliveReport, keepaliveInterval, keepaliveMachine, type Lease } from './keepalive.machine.js'

export { keepaliveInterval } from './keepalive.machine.js'

/** The discovery server as the machine needs it; DiscoveryClient provides every call. */
export interface DiscoveryApi {
  register(signal: AbortSignal): Promise<Lease>
  keepalive(signal: AbortSignal): Promise<Lease>
  unregister(signal: AbortSignal): Promise<void>
}

export interface DiscoveryInput {
  backoff: BackoffPolicy
  /** Used when the server's expiresAt cannot be read: keep-alive every this many ms. */
  fallbackKeepaliveMs?: number
}

interface DiscoveryContext {
  backoff: BackoffPolicy
  registered: boolean
  attempt: number
  keepaliveMs: number
  /** The last failure: the server's error code (or `server_unreachable`) and its message. */
  lastError?: DiscoveryFailure
}

export interface DiscoveryFailure {
  code: string
  message: string
}

const describe = (error: unknown): DiscoveryFailure => ({
  code: typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'internal',
  message: error instanceof Error ? error.message : String(error),
})
const notProvided = (name: string) => () => Promise.reject(new Error(`${name} actor not provided`))

export const discoveryMachine = setup({
  types: {
    context: {} as DiscoveryContext,
    input: {} as DiscoveryInput,
    events: {} as { type: 'STOP' } | KeepaliveReport,
  },
  actors: {
    register: fromPromise<Lease>(notProvided('register')),
    keepalive: keepaliveMachine,
    unregister: fromPromise<void>(notProvided('unregister')),
  },
  delays: {
    retryDelay: ({ context }) => backoffDelay(context.attempt, context.backoff),
  },
  actions: {
    // Date.now(), not the actor clock: expiresAt is wall-clock time from the server.
    leaseGranted: assign(({ context }, params: Lease) => ({
      registered: true,
      attempt: 0,
      lastError: undefined,
      keepaliveMs: keepaliveInterval(params.expiresAt, Date.now(), context.keepaliveMs),
    })),
    recordFailure: assign(({ context }, params: { error: unknown }) => ({
      registered: false,
      attempt: context.attempt + 1,
      lastError: describe(params.error),
    })),
    markUnregistered: assign({ registered: false }),
  },
}).createMachine({
  id: 'discovery',
  context: ({ input }) => ({
    backoff: input.backoff,
    registered: false,
    attempt: 0,
    keepaliveMs: input.fallbackKeepaliveMs ?? 10_000,
  }),
  initial: 'registering',
  on: { STOP: '.unregistering' },
  states: {
    registering: {
      invoke: {
        src: 'register',
        onDone: { target: 'registered', actions: { type: 'leaseGranted', params: ({ event }) => event.output } },
        onError: { target: 'waiting', actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    registered: {
      invoke: {
        id: 'keepalive',
        systemId: 'keepalive',
        src: 'keepalive',
        input: ({ context }) => ({ keepaliveMs: context.keepaliveMs }),
        // Only a bug in the child lands here; treat it like a failed renewal rather than stall.
        onError: { target: 'waiting', actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) } },
      },
      on: {
        LEASE_RENEWED: { actions: { type: 'leaseGranted', params: ({ event }) => ({ expiresAt: event.expiresAt }) } },
        LEASE_GONE: { target: 'registering', actions: 'markUnregistered' },
        KEEPALIVE_FAILED: { target: 'waiting', actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    waiting: {
      // Registering again is harmless for the key that owns the name, so every retry registers.
      after: { retryDelay: 'registering' },
    },
    unregistering: {
      invoke: {
        src: 'unregister',
        onDone: { target: 'stopped', actions: 'markUnregistered' },
        onError: { target: 'stopped', actions: 'markUnregistered' },
      },
    },
    stopped: { type: 'final' },
  },
})

/**
 * The discovery machine with its requests bound to `api`: the one line the daemon needs, and the
 * way tests give it a fake server. Start it with `createActor(discoveryMachineFor(api), { input })`.
 */
export function discoveryMachineFor(api: DiscoveryApi) {
  return discoveryMachine.provide({
    actors: {
      register: fromPromise<Lease>(({ signal }) => api.register(signal)),
      keepalive: keepaliveMachine.provide({
        actors: { keepalive: fromPromise<Lease>(({ signal }) => api.keepalive(signal)) },
      }),
      unregister: fromPromise<void>(({ signal }) => api.unregister(signal)),
    },
  })
}
