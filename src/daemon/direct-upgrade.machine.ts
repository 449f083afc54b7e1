/**
 * While a peer's link runs through the relay, try a direct link now and then, and hand it over
 * when one comes up (SPEC section 9: relayed links move to direct ones when they can). Invoked by
 * the peer-link actor for as long as a link is connected; a direct link needs nothing of it.
 *
 *   deciding --relayed--> waiting --after backoff--> trying --ok--> found (final: its output is the new link)
 *       \--direct--> unneeded                          \--fail--> waiting
 *
 * The dial is given with `provide()` by the link supervisor (PeerDialer.dialDirect); tests give fakes.
 */
import { assign, fromPromise, setup } from 'xstate'
import { type BackoffPolicy, backoffDelay } from './backoff.js'
import type { LinkConnection } from './peer-link.machine.js'

export interface DirectUpgradeInput {
  peerId: string
  relayed: boolean
}

interface DirectUpgradeContext extends DirectUpgradeInput {
  attempt: number
  found: LinkConnection | null
}

/** Gentler than a redial: the link works meanwhile, so a peer behind a NAT costs a lookup a minute at most. */
export const DIRECT_RETRY: BackoffPolicy = { baseMs: 2000, maxMs: 60_000 }

export const directUpgradeMachine = setup({
  types: {
    context: {} as DirectUpgradeContext,
    input: {} as DirectUpgradeInput,
    output: {} as LinkConnection,
  },
  actors: {
    dialDirect: fromPromise<LinkConnection, { peerId: string }>(() => Promise.reject(new Error('direct upgrade: dialDirect not provided'))),
  },
  delays: {
    retryDelay: ({ context }) => backoffDelay(context.attempt, DIRECT_RETRY),
  },
  guards: {
    isRelayed: ({ context }) => context.relayed,
  },
}).createMachine({
  id: 'directUpgrade',
  context: ({ input }) => ({ ...input, attempt: 0, found: null }),
  initial: 'deciding',
  states: {
    deciding: { always: [{ guard: 'isRelayed', target: 'waiting' }, { target: 'unneeded' }] },
    unneeded: {},
    waiting: { after: { retryDelay: 'trying' } },
    trying: {
      invoke: {
        src: 'dialDirect',
        input: ({ context }) => ({ peerId: context.peerId }),
        onDone: { target: 'found', actions: assign({ found: ({ event }) => event.output }) },
        onError: { target: 'waiting', actions: assign({ attempt: ({ context }) => context.attempt + 1 }) },
      },
    },
    found: { type: 'final' },
  },
  output: ({ context }) => context.found as LinkConnection,
})
