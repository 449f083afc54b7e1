/**
 * The discovery machine's child while registered: renews the lease every third of what is left
 * of it and tells its parent how each renewal went.
 *
 *   waiting --after keepaliveDelay--> renewing --ok (LEASE_RENEWED)--> waiting
 *                                        |--404 (LEASE_GONE)--> gone (final)
 *                                        \--error (KEEPALIVE_FAILED)--> failed (final)
 *
 * It ends on the first failure: what to do next (register again, back off) is the parent's call,
 * and the parent starts a fresh child once it holds a lease again.
 *
 * The renewal request is the `keepalive` actor, a placeholder here; the daemon provides the real
 * one with `keepaliveMachine.provide({ actors: { keepalive } })` (see discoveryMachineFor).
 */
import { assign, fromPromise, sendParent, setup } from 'xstate'
import { DiscoveryError } from './discovery-client.js'

export interface Lease {
  expiresAt: string
}

/** What the child tells its parent. */
export type KeepaliveReport =
  | { type: 'LEASE_RENEWED'; expiresAt: string }
  | { type: 'LEASE_GONE' }
  | { type: 'KEEPALIVE_FAILED'; error: unknown }

export interface KeepaliveInput {
  /** The first wait, from the lease the parent was just granted. */
  keepaliveMs: number
}

/** Pure: the keep-alive period for a lease ending at `expiresAt`: a third of what is left. */
export function keepaliveInterval(expiresAt: string, now: number, fallbackMs: number): number {
  const remaining = Date.parse(expiresAt) - now
  return Number.isFinite(remaining) && remaining > 0 ? Math.max(250, Math.floor(remaining / 3)) : fallbackMs
}

/** Pure: is this failure the server saying it holds no lease for us (so we must register again)? */
export function isLeaseGone(error: unknown): boolean {
  return error instanceof DiscoveryError && error.status === 404
}

const report = (event: KeepaliveReport) => event

export const keepaliveMachine = setup({
  types: {
    context: {} as { keepaliveMs: number },
    input: {} as KeepaliveInput,
  },
  actors: {
    keepalive: fromPromise<Lease>(() => Promise.reject(new Error('keepalive actor not provided'))),
  },
  delays: {
    keepaliveDelay: ({ context }) => context.keepaliveMs,
  },
  guards: {
    leaseGone: (_, params: { error: unknown }) => isLeaseGone(params.error),
  },
  actions: {
    // Date.now(), not the actor clock: expiresAt is wall-clock time from the server.
    nextRenewal: assign(({ context }, params: Lease) => ({
      keepaliveMs: keepaliveInterval(params.expiresAt, Date.now(), context.keepaliveMs),
    })),
    reportRenewed: sendParent((_, params: Lease) => report({ type: 'LEASE_RENEWED', expiresAt: params.expiresAt })),
    reportGone: sendParent(report({ type: 'LEASE_GONE' })),
    reportFailed: sendParent((_, params: { error: unknown }) => report({ type: 'KEEPALIVE_FAILED', error: params.error })),
  },
}).createMachine({
  id: 'keepalive',
  context: ({ input }) => ({ keepaliveMs: input.keepaliveMs }),
  initial: 'waiting',
  states: {
    waiting: {
      after: { keepaliveDelay: 'renewing' },
    },
    renewing: {
      invoke: {
        id: 'renew',
        src: 'keepalive',
        onDone: {
          target: 'waiting',
          actions: [
            { type: 'nextRenewal', params: ({ event }) => event.output },
            { type: 'reportRenewed', params: ({ event }) => event.output },
          ],
        },
        onError: [
          { guard: { type: 'leaseGone', params: ({ event }) => ({ error: event.error }) }, target: 'gone', actions: 'reportGone' },
          { target: 'failed', actions: { type: 'reportFailed', params: ({ event }) => ({ error: event.error }) } },
        ],
      },
    },
    gone: { type: 'final' },
    failed: { type: 'final' },
  },
})
