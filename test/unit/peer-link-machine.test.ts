import { describe, expect, it } from 'vitest'
import { createActor, fromPromise, SimulatedClock } from 'xstate'
import { backoffDelay } from '../../src/daemon/backoff.js'
import { candidateWins, type LinkConnection, peerLinkMachine } from '../../src/daemon/peer-link.machine.js'

const settle = () => new Promise((r) => setImmediate(r))

class FakeConn implements LinkConnection {
  closed = false
  lastReceivedAt = Date.now()
  pings = 0
  constructor(readonly initiatorKey: string) {}
  closedWith: string | undefined
  close(reason: string) {
    this.closed = true
    this.closedWith ??= reason
  }
  ping() {
    this.pings++
  }
}

function harness(options: { myKey?: string; queued?: boolean; stalled?: () => boolean; dial?: () => Promise<LinkConnection> } = {}) {
  const log: string[] = []
  let dials = 0
  const machine = peerLinkMachine.provide({
    actors: {
      dial: fromPromise(() => {
        dials++
        return options.dial ? options.dial() : Promise.reject(new Error('offline'))
      }),
    },
    delays: {
      retryDelay: ({ context }) => backoffDelay(context.attempt, { baseMs: 1000, maxMs: 1000 }),
      wakeHoldoff: 200,
      pingInterval: 5000,
      idleLifetime: 60_000,
    },
    guards: {
      hasQueued: () => options.queued ?? true,
      isUnresponsive: (_, { conn }) => Date.now() - conn.lastReceivedAt > 15_000 || (options.stalled?.() ?? false),
    },
    actions: {
      linkUp: () => log.push('up'),
      linkDown: (_, { reason }) => log.push(`down: ${reason}`),
      pump: () => log.push('pump'),
    },
  })
  const clock = new SimulatedClock()
  const actor = createActor(machine, { clock, input: { peerId: 'bob', myKey: options.myKey ?? 'bb' } })
  actor.start()
  return { actor, clock, log, dials: () => dials }
}

describe('peer link machine', () => {
  it('dials on WAKE, backs off after a failure, and dials again after the delay', async () => {
    const { actor, clock, log, dials } = harness()
    actor.send({ type: 'WAKE' })
    await settle()
    expect(actor.getSnapshot().matches('waiting')).toBe(true)
    expect(log).toEqual(['down: offline'])
    // Jittered: somewhere in the upper half of the 1 s ceiling.
    clock.increment(499)
    expect(dials()).toBe(1)
    clock.increment(501)
    await settle()
    expect(dials()).toBe(2)
  })

  it('sends while waiting dial once, when a short hold-off after the failure ends; later ones at once', async () => {
    const { actor, clock, dials } = harness()
    actor.send({ type: 'WAKE' })
    await settle()
    expect(dials()).toBe(1)
    // A stream of sends to a peer that is not online.
    for (let i = 0; i < 10; i++) actor.send({ type: 'WAKE' })
    await settle()
    expect(dials()).toBe(1)
    clock.increment(200)
    await settle()
    expect(dials()).toBe(2)
    // That dial failed too. Once its hold-off is over, a send dials at once.
    clock.increment(200)
    await settle()
    expect(dials()).toBe(2)
    actor.send({ type: 'WAKE' })
    await settle()
    expect(dials()).toBe(3)
  })

  it('a connection that arrives while waiting is adopted at once', async () => {
    const { actor, log } = harness()
    actor.send({ type: 'WAKE' })
    await settle()
    const conn = new FakeConn('aa')
    actor.send({ type: 'INCOMING', conn })
    expect(actor.getSnapshot().value).toEqual({ connected: 'live' })
    expect(log.at(-1)).toBe('up')
  })

  it('pings a quiet link and closes a silent one', async () => {
    const conn = new FakeConn('bb')
    const { actor, clock } = harness({ dial: () => Promise.resolve(conn) })
    actor.send({ type: 'WAKE' })
    await settle()
    clock.increment(5000)
    expect(conn.pings).toBe(1)
    clock.increment(5000)
    expect(conn.pings).toBe(2)
    conn.lastReceivedAt = Date.now() - 60_000
    clock.increment(5000)
    expect(conn.closed).toBe(true)
  })

  it('closes a link whose messages wait too long for acks, though it answers pings', async () => {
    const conn = new FakeConn('bb')
    let stalled = false
    const { actor, clock } = harness({ dial: () => Promise.resolve(conn), stalled: () => stalled })
    actor.send({ type: 'WAKE' })
    await settle()
    clock.increment(5000)
    expect(conn.closed).toBe(false)
    stalled = true
    clock.increment(5000)
    expect(conn.closed).toBe(true)
  })

  it('after a drop: waits and redials when messages wait, goes idle when none do', async () => {
    const conn = new FakeConn('bb')
    const withQueue = harness({ dial: () => Promise.resolve(conn) })
    withQueue.actor.send({ type: 'WAKE' })
    await settle()
    withQueue.actor.send({ type: 'CONN_CLOSED', conn, reason: 'peer went away' })
    expect(withQueue.actor.getSnapshot().matches('waiting')).toBe(true)
    // No dial failed: a send dials at once, with no hold-off.
    withQueue.actor.send({ type: 'WAKE' })
    await settle()
    expect(withQueue.dials()).toBe(2)

    const other = new FakeConn('aa')
    const idle = harness({ queued: false })
    idle.actor.send({ type: 'INCOMING', conn: other })
    idle.actor.send({ type: 'CONN_CLOSED', conn: new FakeConn('zz'), reason: 'not ours' })
    expect(idle.actor.getSnapshot().value).toEqual({ connected: 'live' })
    idle.actor.send({ type: 'CONN_CLOSED', conn: other, reason: 'gone' })
    expect(idle.actor.getSnapshot().value).toBe('idle')
  })

  it('retires after a long idle spell, and not while connected', async () => {
    const conn = new FakeConn('aa')
    const { actor, clock } = harness({ queued: false })
    actor.send({ type: 'INCOMING', conn })
    clock.increment(120_000)
    expect(actor.getSnapshot().status).toBe('active')
    actor.send({ type: 'CONN_CLOSED', conn, reason: 'gone' })
    clock.increment(59_999)
    expect(actor.getSnapshot().value).toBe('idle')
    clock.increment(1)
    expect(actor.getSnapshot().status).toBe('done')
  })

  it('BLOCK closes the live link and stops the actor', () => {
    const { actor } = harness()
    const conn = new FakeConn('aa')
    actor.send({ type: 'INCOMING', conn })
    actor.send({ type: 'BLOCK' })
    expect(conn.closed).toBe(true)
    expect(actor.getSnapshot().status).toBe('done')
  })

  it('simultaneous dials: both sides keep the connection dialed by the smaller key', async () => {
    // I am "bb"; the peer "aa" dialed me while I was dialing it: its connection wins.
    const { actor } = harness({ myKey: 'bb', dial: () => new Promise(() => {}) })
    actor.send({ type: 'WAKE' })
    const theirs = new FakeConn('aa')
    actor.send({ type: 'INCOMING', conn: theirs })
    expect(actor.getSnapshot().value).toEqual({ connected: 'live' })
    expect(theirs.closed).toBe(false)

    // I am "aa"; the peer "bb" dialed me while I was dialing: mine wins, theirs is closed.
    const second = harness({ myKey: 'aa', dial: () => new Promise(() => {}) })
    second.actor.send({ type: 'WAKE' })
    const loser = new FakeConn('bb')
    second.actor.send({ type: 'INCOMING', conn: loser })
    expect(second.actor.getSnapshot().value).toBe('dialing')
    expect(loser.closed).toBe(true)
  })

  it('a newer incoming connection replaces the live one, which is closed as replaced', () => {
    const { actor, log } = harness({ myKey: 'bb' })
    const first = new FakeConn('aa')
    actor.send({ type: 'INCOMING', conn: first })
    // The peer redialed (it restarted): its new connection wins over its own older one.
    const second = new FakeConn('aa')
    actor.send({ type: 'INCOMING', conn: second })
    expect(first.closedWith).toBe('replaced by a newer link')
    expect(second.closed).toBe(false)
    expect(actor.getSnapshot().context.conn).toBe(second)
    expect(log.filter((l) => l === 'up')).toHaveLength(2)
    // The old connection's close is stale news: the link stays up on the new one.
    actor.send({ type: 'CONN_CLOSED', conn: first, reason: 'replaced by a newer link' })
    expect(actor.getSnapshot().value).toEqual({ connected: 'live' })
  })

  it('REDIAL abandons a dial in flight and starts a fresh one; its failure is never reported', async () => {
    let rejectFirst: (error: Error) => void = () => {}
    let call = 0
    const conn = new FakeConn('bb')
    const { actor, log, dials } = harness({
      dial: () => (++call === 1 ? new Promise((_, reject) => (rejectFirst = reject)) : Promise.resolve(conn)),
    })
    actor.send({ type: 'WAKE' })
    actor.send({ type: 'REDIAL' })
    rejectFirst(new Error('stale key'))
    await settle()
    expect(dials()).toBe(2)
    expect(actor.getSnapshot().value).toEqual({ connected: 'live' })
    expect(log).toEqual(['up'])
  })

  it('WAKE on a live link pumps the outbox without a redial', async () => {
    const conn = new FakeConn('bb')
    const { actor, log, dials } = harness({ dial: () => Promise.resolve(conn) })
    actor.send({ type: 'WAKE' })
    await settle()
    actor.send({ type: 'WAKE' })
    expect(dials()).toBe(1)
    expect(log).toEqual(['up', 'pump'])
  })

  it('candidateWins is symmetric and lets a redial replace its own older link', () => {
    expect(candidateWins({ initiatorKey: 'aa' }, { initiatorKey: 'bb' }, 'bb')).toBe(true)
    expect(candidateWins({ initiatorKey: 'bb' }, { initiatorKey: 'aa' }, 'aa')).toBe(false)
    expect(candidateWins({ initiatorKey: 'cc' }, { initiatorKey: 'cc' }, 'aa')).toBe(true)
    expect(candidateWins({ initiatorKey: 'aa' }, null, 'bb')).toBe(true)
    expect(candidateWins({ initiatorKey: 'bb' }, null, 'aa')).toBe(false)
  })
})
