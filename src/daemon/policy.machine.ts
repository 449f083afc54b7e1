/**
 * Blocks and mutes as an actor: decides every change in memory, writes it through to SQLite (the
 * `persist` action, given by createPolicyActor over a PolicyStore), and tells listeners what
 * happened with `emit`: `blocked` / `unblocked` on a change, `muteEnded` when a timed mute runs out.
 *
 *   settling --a mute is timed--> timing --after untilNextExpiry: end the due mutes--> settling
 *            \--none------------> idle
 *   BLOCK / UNBLOCK / MUTE / UNMUTE (any state) --> settling, so the expiry timer is set again
 *
 * Time: commands carry `at`, the caller's clock when it sent them. The timer's delay and the
 * expiry read the clock when they run (Date.now here; createPolicyActor provides its `now`), not
 * the time the timer was set: a timer that fires late (a laptop asleep) ends what is due by then.
 * Reads never wait for the timer: an expired mute already reads as not muted (effectivePolicy).
 */
import { type Actor, type ActorOptions, type AnyActorLogic, assign, createActor, enqueueActions, setup } from 'xstate'
import {
  applyPolicy,
  effectivePolicy,
  NO_POLICY,
  type PeerPolicy,
  type Policies,
  type PolicyChange,
  type PolicyCommand,
  type PolicyStore,
} from './stores/policy-store.js'

export type PolicyEvent =
  | { type: 'BLOCK'; peer: string; at: number }
  | { type: 'UNBLOCK'; peer: string; at: number }
  | { type: 'MUTE'; peer: string; until?: number; at: number }
  | { type: 'UNMUTE'; peer: string; at: number }

export type PolicyEmitted = { type: 'blocked'; peer: string } | { type: 'unblocked'; peer: string } | { type: 'muteEnded'; peer: string }

export interface PolicyInput {
  /** Every stored policy (PolicyStore.all()). */
  policies: Record<string, PeerPolicy>
  /** The time the actor starts, ms since epoch. */
  now: number
}

interface PolicyContext {
  policies: Record<string, PeerPolicy>
  /** The answer to the last command, read back by the facade right after it sends. */
  lastChange?: PolicyChange
  /** What the last step decided to write and announce; the actions after it carry it out. */
  writes: PolicyWrite[]
  notices: PolicyEmitted[]
}

interface PolicyWrite {
  peer: string
  policy: PeerPolicy
}

/**
 * Node's setTimeout fires at once beyond 2^31-1 ms (24.8 days), and a mute can be longer: the timer
 * wakes at least daily and, with nothing due, simply sets itself again.
 */
const MAX_TIMER_MS = 24 * 60 * 60 * 1000

/** Pure: the timed mutes due at `now` (earliest first), and the earliest expiry still ahead. */
export function dueMutes(policies: Readonly<Record<string, PeerPolicy>>, now: number): { due: string[]; next?: number } {
  const timed = Object.entries(policies)
    .filter(([, p]) => p.muted && p.mutedUntil !== undefined)
    .map(([peer, p]) => ({ peer, until: p.mutedUntil as number }))
    .sort((a, b) => a.until - b.until)
  const due = timed.filter((m) => m.until <= now).map((m) => m.peer)
  const next = timed.find((m) => m.until > now)?.until
  return next === undefined ? { due } : { due, next }
}

/** Pure: how long after `now` the expiry timer should fire; undefined when no mute is timed. */
export function expiryDelay(policies: Readonly<Record<string, PeerPolicy>>, now: number): number | undefined {
  const { due, next } = dueMutes(policies, now)
  if (due.length > 0) return 0
  return next === undefined ? undefined : Math.min(next - now, MAX_TIMER_MS)
}

/** Pure: the context after ending the mutes due at `now`, with the writes and notices that go with it. */
export function endDueMutes(policies: Readonly<Record<string, PeerPolicy>>, now: number) {
  const writes: PolicyWrite[] = dueMutes(policies, now).due.map((peer) => ({
    peer,
    policy: { blocked: policies[peer]?.blocked === true, muted: false },
  }))
  return {
    policies: { ...policies, ...Object.fromEntries(writes.map((w) => [w.peer, w.policy])) },
    writes,
    notices: writes.map((w): PolicyEmitted => ({ type: 'muteEnded', peer: w.peer })),
  }
}

const timerDelay = (policies: Readonly<Record<string, PeerPolicy>>, now: number) => expiryDelay(policies, now) ?? MAX_TIMER_MS

function commandOf(event: PolicyEvent): PolicyCommand {
  switch (event.type) {
    case 'BLOCK':
      return { blocked: true }
    case 'UNBLOCK':
      return { blocked: false }
    case 'MUTE':
      return { muted: true, until: event.until }
    case 'UNMUTE':
      return { muted: false }
  }
}

const persistWrites = { type: 'persist', params: ({ context }: { context: PolicyContext }) => ({ writes: context.writes }) } as const
const decide = {
  target: '.settling',
  actions: [{ type: 'decide', params: ({ event }: { event: PolicyEvent }) => event }, persistWrites, 'announce'],
} as const

export const policyMachine = setup({
  types: {
    context: {} as PolicyContext,
    input: {} as PolicyInput,
    events: {} as PolicyEvent,
    emitted: {} as PolicyEmitted,
  },
  actions: {
    persist: (_, _params: { writes: PolicyWrite[] }) => {
      throw new Error('policy machine: persist not provided')
    },
    decide: assign(({ context }, event: PolicyEvent) => {
      const change = applyPolicy(effectivePolicy(context.policies[event.peer] ?? NO_POLICY, event.at), commandOf(event))
      if (!change.changed) return { lastChange: change, writes: [], notices: [] }
      const blockNotice = event.type === 'BLOCK' ? 'blocked' : event.type === 'UNBLOCK' ? 'unblocked' : undefined
      return {
        policies: { ...context.policies, [event.peer]: change.policy },
        lastChange: change,
        writes: [{ peer: event.peer, policy: change.policy }],
        notices: blockNotice ? [{ type: blockNotice, peer: event.peer }] : [],
      }
    }),
    expireDue: assign(({ context }) => endDueMutes(context.policies, Date.now())),
    announce: enqueueActions(({ context, enqueue }) => {
      for (const notice of context.notices) enqueue.emit(notice)
    }),
  },
  delays: {
    untilNextExpiry: ({ context }) => timerDelay(context.policies, Date.now()),
  },
  guards: {
    muteTimed: ({ context }) => Object.values(context.policies).some((p) => p.muted && p.mutedUntil !== undefined),
  },
}).createMachine({
  id: 'policy',
  // Mutes that ran out while the daemon was down end quietly: nobody was there to hear it.
  context: ({ input }) => ({
    policies: Object.fromEntries(Object.entries(input.policies).map(([peer, p]) => [peer, effectivePolicy(p, input.now)])),
    writes: [],
    notices: [],
  }),
  initial: 'settling',
  on: { BLOCK: decide, UNBLOCK: decide, MUTE: decide, UNMUTE: decide },
  states: {
    settling: {
      always: [{ guard: 'muteTimed', target: 'timing' }, { target: 'idle' }],
    },
    idle: {},
    timing: {
      after: { untilNextExpiry: { target: 'settling', actions: ['expireDue', persistWrites, 'announce'] } },
    },
  },
})

export type PolicyActorRef = Actor<typeof policyMachine>

/** The policy actor with the calls the daemon makes: writes answer at once, reads send nothing. */
export interface PolicyActor extends Policies {
  actor: PolicyActorRef
  block(peer: string): PolicyChange
  unblock(peer: string): PolicyChange
  /** Mutes until `until` (ms since epoch), or until unmuted when `until` is undefined. */
  mute(peer: string, until?: number): PolicyChange
  unmute(peer: string): PolicyChange
  stop(): void
}

export interface PolicyActorOptions {
  /** The wall clock; tests pass their SimulatedClock's now together with the clock. */
  now?: () => number
  clock?: ActorOptions<AnyActorLogic>['clock']
  /** A write to SQLite failed: the actor has stopped (later writes throw), reads still answer. */
  onError?: (error: unknown) => void
}

/** The policy machine writing through to `store` (its SQLite layer), on the clock `now`. */
export function policyMachineFor(store: PolicyStore, now: () => number = Date.now) {
  return policyMachine.provide({
    actions: {
      persist: (_, { writes }) => {
        for (const { peer, policy } of writes) store.put(peer, policy)
      },
      expireDue: assign(({ context }) => endDueMutes(context.policies, now())),
    },
    delays: { untilNextExpiry: ({ context }) => timerDelay(context.policies, now()) },
  })
}

/** The input a policy actor starts from: what `store` holds now. */
export const policyInput = (store: PolicyStore, now: () => number = Date.now): PolicyInput => ({ policies: store.all(), now: now() })

/**
 * The daemon's calls on a policy actor, wherever it runs (alone, or as a child of the daemon's
 * root actor): writes send an event and read the answer back from the snapshot at once, reads
 * only look at the snapshot.
 */
export function policyFacade(actor: PolicyActorRef, now: () => number = Date.now): PolicyActor {
  const command = (event: PolicyEvent): PolicyChange => {
    const previous = actor.getSnapshot().context.lastChange
    actor.send(event)
    const snapshot = actor.getSnapshot()
    if (snapshot.status === 'error') throw snapshot.error
    if (snapshot.status !== 'active') throw new Error('policy actor stopped')
    const change = snapshot.context.lastChange
    // XState queues a send made while the actor is busy (from one of its own listeners): the write
    // happens after this step, so there is no answer yet. Say so rather than return the last one.
    if (!change || change === previous) throw new Error('policy actor busy: a write from inside its own listener is queued, answer unknown')
    return change
  }
  const stored = (peer: string) => actor.getSnapshot().context.policies[peer]
  const get = (peer: string) => effectivePolicy(stored(peer) ?? NO_POLICY, now())

  return {
    actor,
    block: (peer) => command({ type: 'BLOCK', peer, at: now() }),
    unblock: (peer) => command({ type: 'UNBLOCK', peer, at: now() }),
    mute: (peer, until) => command({ type: 'MUTE', peer, until, at: now() }),
    unmute: (peer) => command({ type: 'UNMUTE', peer, at: now() }),
    setBlocked: (peer, blocked) => command({ type: blocked ? 'BLOCK' : 'UNBLOCK', peer, at: now() }),
    setMuted: (peer, muted, until) => command(muted ? { type: 'MUTE', peer, until, at: now() } : { type: 'UNMUTE', peer, at: now() }),
    get,
    isBlocked: (peer) => stored(peer)?.blocked === true,
    isMuted: (peer) => get(peer).muted,
    userIds: () => Object.keys(actor.getSnapshot().context.policies),
    stop: () => actor.stop(),
  }
}

/** Starts a policy actor of its own over `store` and returns the daemon's facade. */
export function createPolicyActor(store: PolicyStore, options: PolicyActorOptions = {}): PolicyActor {
  const now = options.now ?? Date.now
  const actor = createActor(policyMachineFor(store, now), {
    input: policyInput(store, now),
    ...(options.clock ? { clock: options.clock } : {}),
  })
  // Without an error observer XState rethrows the error outside any caller and ends the process.
  actor.subscribe({ error: (error) => options.onError?.(error) })
  actor.start()
  return policyFacade(actor, now)
}
