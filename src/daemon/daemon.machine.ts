/**
 * The daemon as one actor system. The root starts and supervises its children, each reachable
 * by `systemId` (`root.system.get('policy')`):
 *
 *   daemon (parallel)
 *    ├─ discovery: offline --LISTENING--> running [discovery → keepalive] --error--> failed --after--> running
 *    ├─ relay:     offline --LISTENING--> running [relay]  (the one relay connection, reconnected with backoff)
 *    ├─ policy:    running [policy]       (blocks and mutes, written through to SQLite)
 *    └─ links:     running [links]        (the peer-link supervisor; its peers' actors live in its own Map)
 *
 * Discovery waits for LISTENING because what it registers is the listener's real port. A child
 * that fails is reported and, for discovery, started again after a pause: presence must outlive
 * a bug in one request. The children's logic is given by the daemon with `provide()`.
 */
import { fromCallback, setup } from 'xstate'
import { type DiscoveryInput, discoveryMachine } from './discovery.machine.js'
import { type PolicyInput, policyMachine } from './policy.machine.js'
import { type RelayInput, relayMachine } from './relay.machine.js'

/** What the links child accepts: the supervisor's calls that are not on a per-message path. */
export type LinksEvent = { type: 'BLOCK'; peer: string } | { type: 'WAKE'; peer: string }

export interface DaemonInput {
  discovery: DiscoveryInput
  policy: PolicyInput
  relay: RelayInput
  /** Pause before a failed discovery child starts again. */
  restartDelayMs: number
}

export type DaemonMachineEvent = { type: 'LISTENING' }

export const daemonMachine = setup({
  types: {
    context: {} as DaemonInput,
    input: {} as DaemonInput,
    events: {} as DaemonMachineEvent,
  },
  actors: {
    discovery: discoveryMachine,
    policy: policyMachine,
    relay: relayMachine,
    links: fromCallback<LinksEvent>(() => {
      throw new Error('daemon: links not provided')
    }),
  },
  delays: {
    restartDelay: ({ context }) => context.restartDelayMs,
  },
  actions: {
    /** Provided by the daemon: a child failed (logged there). */
    childFailed: (_, _params: { child: string; error: unknown }) => {},
  },
}).createMachine({
  id: 'daemon',
  type: 'parallel',
  context: ({ input }) => input,
  states: {
    discovery: {
      initial: 'offline',
      states: {
        offline: { on: { LISTENING: 'running' } },
        running: {
          invoke: {
            id: 'discovery',
            systemId: 'discovery',
            src: 'discovery',
            input: ({ context }) => context.discovery,
            onDone: 'stopped',
            onError: {
              target: 'failed',
              actions: { type: 'childFailed', params: ({ event }) => ({ child: 'discovery', error: event.error }) },
            },
          },
        },
        failed: { after: { restartDelay: 'running' } },
        stopped: { type: 'final' },
      },
    },
    relay: {
      initial: 'offline',
      states: {
        offline: { on: { LISTENING: 'running' } },
        running: {
          invoke: {
            id: 'relay',
            systemId: 'relay',
            src: 'relay',
            input: ({ context }) => context.relay,
            onDone: 'stopped',
            onError: {
              target: 'failed',
              actions: { type: 'childFailed', params: ({ event }) => ({ child: 'relay', error: event.error }) },
            },
          },
        },
        failed: { after: { restartDelay: 'running' } },
        stopped: { type: 'final' },
      },
    },
    policy: {
      initial: 'running',
      states: {
        running: {
          invoke: {
            id: 'policy',
            systemId: 'policy',
            src: 'policy',
            input: ({ context }) => context.policy,
            // Its last snapshot still answers reads; writes fail with a clear error.
            onError: {
              target: 'failed',
              actions: { type: 'childFailed', params: ({ event }) => ({ child: 'policy', error: event.error }) },
            },
          },
        },
        failed: {},
      },
    },
    links: {
      initial: 'running',
      states: {
        running: {
          invoke: {
            id: 'links',
            systemId: 'links',
            src: 'links',
            onError: {
              target: 'failed',
              actions: { type: 'childFailed', params: ({ event }) => ({ child: 'links', error: event.error }) },
            },
          },
        },
        failed: {},
      },
    },
  },
})
