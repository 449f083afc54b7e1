/**
 * The mailbox's rhythm: one actor that, round after round, deposits what is due for offline peers
 * and drains my own mailbox, then waits.
 *
 *   waiting --after pollDelay | POKE--> working --done | error--> waiting
 *                                          \--POKE while working: one more round right after
 *
 * The wait grows while rounds find nothing (polling with backoff), falls back to the shortest
 * after a round that moved something, and backs off on errors. A POKE (the daemon registered:
 * "fetch on register") starts a round at once. The round itself is the `round` actor, provided by
 * the daemon (see mailboxMachineFor).
 */
import { assign, fromPromise, setup } from 'xstate'
import { type BackoffPolicy, backoffDelay } from '../backoff.js'

export interface MailboxRoundResult {
  /** Items deposited or taken: anything but 0 means the peers are active, so poll soon again. */
  moved: number
}

export interface MailboxInput {
  poll: BackoffPolicy
}

interface MailboxContext {
  poll: BackoffPolicy
  idleRounds: number
  failures: number
  poked: boolean
  lastError: string | undefined
}

/** Pure: how long to wait before the next round. */
export function pollDelay(context: Pick<MailboxContext, 'poll' | 'idleRounds' | 'failures'>, random?: () => number): number {
  return backoffDelay(context.failures > 0 ? context.failures : context.idleRounds, context.poll, random)
}

export const mailboxMachine = setup({
  types: {
    context: {} as MailboxContext,
    input: {} as MailboxInput,
    events: {} as { type: 'POKE' },
  },
  actors: {
    round: fromPromise<MailboxRoundResult>(() => Promise.reject(new Error('mailbox round not provided'))),
  },
  delays: {
    pollDelay: ({ context }) => pollDelay(context),
  },
  guards: {
    poked: ({ context }) => context.poked,
  },
  actions: {
    roundDone: assign(({ context }, params: MailboxRoundResult) => ({
      idleRounds: params.moved > 0 ? 0 : context.idleRounds + 1,
      failures: 0,
      poked: false,
      lastError: undefined,
    })),
    roundFailed: assign(({ context }, params: { error: unknown }) => ({
      failures: context.failures + 1,
      poked: false,
      lastError: params.error instanceof Error ? params.error.message : String(params.error),
    })),
    notePoke: assign({ poked: true }),
  },
}).createMachine({
  id: 'mailbox',
  context: ({ input }) => ({ poll: input.poll, idleRounds: 0, failures: 0, poked: false, lastError: undefined }),
  initial: 'waiting',
  states: {
    waiting: {
      after: { pollDelay: 'working' },
      on: { POKE: 'working' },
    },
    working: {
      on: { POKE: { actions: 'notePoke' } },
      invoke: {
        src: 'round',
        onDone: [
          {
            guard: 'poked',
            target: 'working',
            reenter: true,
            actions: { type: 'roundDone', params: ({ event }) => event.output },
          },
          { target: 'waiting', actions: { type: 'roundDone', params: ({ event }) => event.output } },
        ],
        onError: { target: 'waiting', actions: { type: 'roundFailed', params: ({ event }) => ({ error: event.error }) } },
      },
    },
  },
})

/** The machine with the daemon's round: deposit what is due, then drain my mailbox. */
export function mailboxMachineFor(round: () => Promise<MailboxRoundResult>) {
  return mailboxMachine.provide({ actors: { round: fromPromise(() => round()) } })
}
