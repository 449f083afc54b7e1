/** The relay's pure decisions and machines (issue 8), on a simulated clock where there is time. */
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { createActor, fromPromise, SimulatedClock } from 'xstate'
import { paletteFor } from '../../src/cli/format.js'
import { peersTable } from '../../src/cli/render.js'
import { raceDials } from '../../src/daemon/dial-race.js'
import { directUpgradeMachine } from '../../src/daemon/direct-upgrade.machine.js'
import { resolveStartSettings } from '../../src/daemon/open-profile.js'
import { candidateWins, type LinkConnection, peerLinkMachine } from '../../src/daemon/peer-link.machine.js'
import { type RelayConnection, relayMachine } from '../../src/daemon/relay.machine.js'
import { isListenValue, parseAdvertise, registeredAddress } from '../../src/protocol/advertise.js'
import { takeTokens } from '../../src/protocol/token-bucket.js'
import { admitConnection, DEFAULT_RELAY_LIMITS } from '../../src/server/relay/relay-limits.js'

const settle = () => new Promise((r) => setImmediate(r))

describe('raceDials', () => {
  it('the first to finish wins; a later attempt never starts; the winner is not aborted, the loser is', async () => {
    const aborted: string[] = []
    const started: string[] = []
    const attempt = (name: string, ms: number, afterMs = 0) => ({
      afterMs,
      run: (signal: AbortSignal) => {
        started.push(name)
        signal.addEventListener('abort', () => aborted.push(name))
        return new Promise<string>((resolve) => setTimeout(() => resolve(name), ms))
      },
    })
    const winner = await raceDials([attempt('direct', 5), attempt('slow', 200), attempt('relay', 0, 100)], new AbortController().signal)
    expect(winner).toBe('direct')
    expect(started).toEqual(['direct', 'slow'])
    expect(aborted).toEqual(['slow'])
  })

  it('a failure starts the next path at once instead of waiting out its delay', async () => {
    const started = Date.now()
    const winner = await raceDials(
      [
        { afterMs: 0, run: () => Promise.reject(new Error('refused')) },
        { afterMs: 60_000, run: () => Promise.resolve('relay') },
      ],
      new AbortController().signal,
    )
    expect(winner).toBe('relay')
    expect(Date.now() - started).toBeLessThan(30_000)
  })

  it('fails with the first attempt’s error when all fail, and at once when the caller aborts', async () => {
    const failing = (message: string) => ({ afterMs: 0, run: () => Promise.reject(new Error(message)) })
    await expect(raceDials([failing('direct refused'), failing('relay down')], new AbortController().signal)).rejects.toThrow(
      'direct refused',
    )
    const caller = new AbortController()
    const pending = raceDials([{ afterMs: 0, run: () => new Promise<string>(() => {}) }], caller.signal)
    caller.abort(new Error('not wanted'))
    await expect(pending).rejects.toThrow('not wanted')
  })
})

describe('candidateWins with link kinds', () => {
  const direct = (k: string) => ({ initiatorKey: k, link: 'direct' as const })
  const relayed = (k: string) => ({ initiatorKey: k, link: 'relayed' as const })
  it('a direct link beats a relayed one whoever dialed, and both sides agree', () => {
    // alice (aa) holds a relayed link bob dialed; bob's (bb) direct dial arrives: alice takes it...
    expect(candidateWins(direct('aa'), relayed('bb'), 'aa')).toBe(true)
    expect(candidateWins(direct('bb'), relayed('aa'), 'aa')).toBe(true)
    // ...and a relayed one never replaces a direct one dialed by the other side.
    expect(candidateWins(relayed('aa'), direct('bb'), 'bb')).toBe(false)
    expect(candidateWins(relayed('bb'), direct('aa'), 'aa')).toBe(false)
  })
  it('a peer dialing again still replaces its own older link; same kinds fall back to the smaller key', () => {
    expect(candidateWins(relayed('bb'), direct('bb'), 'aa')).toBe(true)
    expect(candidateWins(relayed('aa'), relayed('bb'), 'cc')).toBe(true)
    expect(candidateWins(relayed('bb'), relayed('aa'), 'cc')).toBe(false)
  })
})

describe('--listen and --advertise', () => {
  it('parses HOST[:PORT] in its forms, and refuses the rest', () => {
    expect(parseAdvertise('203.0.113.5')).toEqual({ host: '203.0.113.5' })
    expect(parseAdvertise('example.org:7000')).toEqual({ host: 'example.org', port: 7000 })
    expect(parseAdvertise('[2001:db8::1]:7000')).toEqual({ host: '2001:db8::1', port: 7000 })
    expect(parseAdvertise('2001:db8::1')).toEqual({ host: '2001:db8::1' })
    for (const bad of ['', 'host:0', 'host:70000', 'a b', 'http://x', '[::1', 'host:port']) expect(parseAdvertise(bad)).toBeUndefined()
    expect(isListenValue('off')).toBe(true)
    expect(isListenValue('::')).toBe(true)
    expect(isListenValue('not a host')).toBe(false)
  })
  it('registers the advertised address, its port defaulting to the listener’s; port 0 without a listener', () => {
    expect(registeredAddress(4321, undefined)).toEqual({ port: 4321 })
    expect(registeredAddress(4321, '203.0.113.5')).toEqual({ host: '203.0.113.5', port: 4321 })
    expect(registeredAddress(4321, '203.0.113.5:7000')).toEqual({ host: '203.0.113.5', port: 7000 })
    expect(registeredAddress(0, undefined)).toEqual({ port: 0 })
  })
  it('are remembered in the profile like --port; an empty value forgets one; a malformed one is refused', () => {
    const first = resolveStartSettings({ userId: 'alice', listen: 'off', advertise: '203.0.113.5:7000' }, {})
    expect(first).toMatchObject({ listen: 'off', advertise: '203.0.113.5:7000' })
    const later = resolveStartSettings({}, { userId: 'alice', listen: 'off', advertise: '203.0.113.5:7000' })
    expect(later).toMatchObject({ listen: 'off', advertise: '203.0.113.5:7000' })
    expect(resolveStartSettings({ advertise: '' }, { userId: 'alice', advertise: '203.0.113.5' }).advertise).toBeUndefined()
    expect(() => resolveStartSettings({ userId: 'alice', advertise: 'http://x' }, {})).toThrow(/--advertise/)
  })
})

describe('relay limits', () => {
  it('takeTokens lets a stream run into debt and says how long to wait it off', () => {
    const config = { perSecond: 1000, burst: 4000 }
    const first = takeTokens(undefined, 0, config, 3000)
    expect(first.waitMs).toBe(0)
    const second = takeTokens(first.bucket, 0, config, 3000)
    expect(second.waitMs).toBe(2000)
    expect(takeTokens(second.bucket, 2000, config, 0).waitMs).toBe(0)
  })
  it('admitConnection: the total cap first, then the per-address one', () => {
    const limits = { ...DEFAULT_RELAY_LIMITS, maxConnections: 10, maxConnectionsPerAddress: 2 }
    expect(admitConnection(limits, 9, 1)).toBeUndefined()
    expect(admitConnection(limits, 9, 2)?.code).toBe('too_many_connections')
    expect(admitConnection(limits, 10, 0)?.code).toBe('relay_full')
  })
})

class FakeRelay extends EventEmitter implements RelayConnection {
  readonly serverUrl = 'http://relay.test'
  closed = false
  lastReceivedAt = Date.now()
  pings = 0
  ping() {
    this.pings++
  }
  dial() {
    return Promise.resolve({ token: 'token' })
  }
  close(reason = 'closed') {
    if (this.closed) return
    this.closed = true
    this.emit('close', reason)
  }
}

describe('relay machine', () => {
  it('connects, pings, reconnects with backoff after a loss, and closes the connection on STOP', async () => {
    const conns: FakeRelay[] = []
    let failNext = true
    const machine = relayMachine.provide({
      actors: {
        connect: fromPromise<RelayConnection>(async () => {
          if (failNext) {
            failNext = false
            throw new Error('server down')
          }
          const conn = new FakeRelay()
          conns.push(conn)
          return conn
        }),
      },
    })
    const clock = new SimulatedClock()
    const actor = createActor(machine, { clock, input: { backoff: { baseMs: 1000, maxMs: 1000 }, pingIntervalMs: 5000 } })
    actor.start()
    await settle()
    expect(actor.getSnapshot().value).toBe('waiting')
    expect(actor.getSnapshot().context.lastError).toBe('server down')
    clock.increment(1000)
    await settle()
    expect(actor.getSnapshot().value).toEqual({ connected: 'live' })
    clock.increment(5000)
    expect(conns[0]!.pings).toBe(1)
    conns[0]!.close('relay connection lost')
    expect(actor.getSnapshot().value).toBe('waiting')
    clock.increment(1000)
    await settle()
    expect(conns).toHaveLength(2)
    actor.send({ type: 'STOP' })
    expect(conns[1]!.closed).toBe(true)
  })
})

class FakeConn implements LinkConnection {
  closed = false
  lastReceivedAt = Date.now()
  closedWith: string | undefined
  constructor(
    readonly initiatorKey: string,
    readonly link: 'direct' | 'relayed',
  ) {}
  close(reason: string) {
    this.closed = true
    this.closedWith ??= reason
  }
  ping() {}
}

describe('moving a relayed link to a direct one', () => {
  it('the direct-upgrade child is idle for a direct link and retries with backoff for a relayed one', async () => {
    let tries = 0
    const direct = new FakeConn('aa', 'direct')
    const machine = directUpgradeMachine.provide({
      actors: {
        dialDirect: fromPromise<LinkConnection, { peerId: string }>(async () => {
          tries++
          if (tries < 2) throw new Error('behind a NAT')
          return direct
        }),
      },
      delays: { retryDelay: 1000 },
    })
    const clock = new SimulatedClock()
    const idle = createActor(machine, { clock, input: { peerId: 'bob', relayed: false } }).start()
    expect(idle.getSnapshot().value).toBe('unneeded')
    const actor = createActor(machine, { clock, input: { peerId: 'bob', relayed: true } }).start()
    clock.increment(1000)
    await settle()
    expect(tries).toBe(1)
    clock.increment(1000)
    await settle()
    expect(actor.getSnapshot().status).toBe('done')
    expect(actor.getSnapshot().output).toBe(direct)
  })

  it('the peer link adopts the direct link and closes the relayed one as moved', async () => {
    const relayed = new FakeConn('bb', 'relayed')
    const direct = new FakeConn('aa', 'direct')
    const ups: LinkConnection[] = []
    const machine = peerLinkMachine.provide({
      actors: {
        dial: fromPromise<LinkConnection, { peerId: string }>(async () => relayed),
        upgrade: directUpgradeMachine.provide({
          actors: { dialDirect: fromPromise<LinkConnection, { peerId: string }>(async () => direct) },
          delays: { retryDelay: 1000 },
        }),
      },
      actions: { linkUp: (_, { conn }) => ups.push(conn) },
    })
    const clock = new SimulatedClock()
    const actor = createActor(machine, { clock, input: { peerId: 'bob', myKey: 'aa' } }).start()
    actor.send({ type: 'WAKE' })
    await settle()
    expect(actor.getSnapshot().context.conn).toBe(relayed)
    clock.increment(1000)
    await settle()
    expect(actor.getSnapshot().context.conn).toBe(direct)
    expect(actor.getSnapshot().value).toEqual({ connected: 'live' })
    expect(relayed.closedWith).toBe('moved to a direct link')
    expect(ups).toEqual([relayed, direct])
  })
})

describe('human output', () => {
  it('peers shows a relay-only peer and a relayed link as such', () => {
    const plain = paletteFor({ isTTY: false })
    const text = peersTable(
      [{ userId: 'bob', online: true, host: '198.51.100.2', port: 0, connected: true, link: 'relayed', blocked: false, muted: false }],
      plain,
      'none',
    )
    expect(text).toContain('relay only')
    expect(text).toContain('connected (relayed)')
  })
})
