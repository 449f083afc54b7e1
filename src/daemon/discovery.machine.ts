/**
 * The daemon's presence on the discovery server: register, keep the lease alive every ttl/3,
 * register again by itself when the lease is gone (404) or the server forgot us, back off while the
 * server is down (the daemon keeps working meanwhile), unregister on STOP.
 *
 *   registering --ok--> registered --after keepalive--> keepingAlive --ok--> registered
 *        ^  \--error--> waiting --after backoff--/          |--404--> registering
 *        |                                                  \--error--> waiting
 *   STOP (any state) --> unregistering --> stopped
 */
import { assign, fromPromise, setup } from 'xstate'
import { type BackoffPolicy, backoffDelay } from './backoff.js'
import { DiscoveryError } from './discovery-client.js'

export interface DiscoveryApi {
  register(): Promise<{ expiresAt: string }>
  keepalive(): Promise<{ expiresAt: string }>
  unregister(): Promise<void>
}

export interface DiscoveryInput {
  api: DiscoveryApi
  backoff: BackoffPolicy
  /** Used when the server's expiresAt cannot be read: keep-alive every this many ms. */
  fallbackKeepaliveMs?: number
}

interface DiscoveryContext {
  api: DiscoveryApi
  backoff: BackoffPolicy
  registered: boolean
  attempt: number
  keepaliveMs: number
  lastError?: string
}

/** Pure: the keep-alive period for a lease ending at `expiresAt`: a third of what is left. */
export function keepaliveInterval(expiresAt: string, now: number, fallbackMs: number): number {
  const remaining = Date.parse(expiresAt) - now
  return Number.isFinite(remaining) && remaining > 0 ? Math.max(250, Math.floor(remaining / 3)) : fallbackMs
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error))
// Named actions and guards see the machine's whole event union; these read the invoke results.
const errorOf = (event: unknown) => (event as { error?: unknown }).error
const outputOf = <T>(event: unknown) => (event as { output: T }).output

export const discoveryMachine = setup({
  types: {
    context: {} as DiscoveryContext,
    input: {} as DiscoveryInput,
    events: {} as { type: 'STOP' },
  },
  actors: {
    register: fromPromise<{ expiresAt: string }, DiscoveryApi>(({ input }) => input.register()),
    keepalive: fromPromise<{ expiresAt: string }, DiscoveryApi>(({ input }) => input.keepalive()),
    unregister: fromPromise<void, DiscoveryApi>(({ input }) => input.unregister()),
  },
  delays: {
    keepaliveDelay: ({ context }) => context.keepaliveMs,
    retryDelay: ({ context }) => backoffDelay(context.attempt, context.backoff),
  },
  guards: {
    leaseGone: ({ event }) => {
      const error = errorOf(event)
      return error instanceof DiscoveryError && error.status === 404
    },
  },
  actions: {
    leaseGranted: assign(({ context, event }) => ({
      registered: true,
      attempt: 0,
      lastError: undefined,
      keepaliveMs: keepaliveInterval(outputOf<{ expiresAt: string }>(event).expiresAt, Date.now(), context.keepaliveMs),
    })),
    recordFailure: assign(({ context, event }) => ({
      registered: false,
      attempt: context.attempt + 1,
      lastError: describe(errorOf(event)),
    })),
    markUnregistered: assign({ registered: false }),
  },
}).createMachine({
  id: 'discovery',
  context: ({ input }) => ({
    api: input.api,
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
        input: ({ context }) => context.api,
        onDone: { target: 'registered', actions: 'leaseGranted' },
        onError: { target: 'waiting', actions: 'recordFailure' },
      },
    },
    registered: {
      after: { keepaliveDelay: 'keepingAlive' },
    },
    keepingAlive: {
      invoke: {
        src: 'keepalive',
        input: ({ context }) => context.api,
        onDone: { target: 'registered', actions: 'leaseGranted' },
        onError: [
          { guard: 'leaseGone', target: 'registering', actions: 'markUnregistered' },
          { target: 'waiting', actions: 'recordFailure' },
        ],
      },
    },
    waiting: {
      // Registering again is harmless for the key that owns the name, so every retry registers.
      after: { retryDelay: 'registering' },
    },
    unregistering: {
      invoke: {
        src: 'unregister',
        input: ({ context }) => context.api,
        onDone: { target: 'stopped', actions: 'markUnregistered' },
        onError: { target: 'stopped', actions: 'markUnregistered' },
      },
    },
    stopped: { type: 'final' },
  },
})
