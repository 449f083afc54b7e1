/**
 * Links through the relay (SPEC section 9), with real daemons that take no direct connections
 * (`--listen off`) and the real server, on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DaemonProcess, eventually, p2p, startDaemonProcess, status, tempHome } from '../helpers/daemon.js'
import { restartServerProcess, type ServerProcess, startServerProcess } from '../helpers/server.js'
import { tcpProxy } from '../helpers/tcp-proxy.js'

const RELAY_ONLY = ['--listen', 'off']

async function relayOnly(userId: string, serverUrl: string, home?: string): Promise<DaemonProcess> {
  const daemon = await startDaemonProcess({ userId, serverUrl, args: RELAY_ONLY, ...(home ? { home } : {}) })
  await eventually(async () => {
    const s = await status(daemon)
    expect(s.server.registered).toBe(true)
    expect(s.relay?.connected).toBe(true)
    return true
  })
  return daemon
}

const history = async (d: DaemonProcess, peer: string) =>
  (await d.rpc('history', { peer, limit: 1000, includeMuted: true })).map((e) => `${e.from}: ${e.text}`)

/** A TCP proxy in front of the server that keeps a copy of every byte, both ways. */
async function recordingProxy(target: number): Promise<{ url: string; bytes(): Buffer; close(): void }> {
  const chunks: Buffer[] = []
  const proxy = await tcpProxy(target, { record: (c) => chunks.push(c) })
  return { ...proxy, bytes: () => Buffer.concat(chunks) }
}

describe('relayed links between daemons that take no direct connections', () => {
  let server: ServerProcess
  let proxy: Awaited<ReturnType<typeof recordingProxy>>
  let alice: DaemonProcess
  let bob: DaemonProcess
  beforeAll(async () => {
    server = await startServerProcess({ ttl: 5 })
    proxy = await recordingProxy(server.port)
    ;[alice, bob] = await Promise.all([relayOnly('alice', proxy.url), relayOnly('bob', proxy.url)])
  })
  afterAll(async () => {
    await Promise.all([alice?.stop(), bob?.stop()])
    proxy?.close()
    await server?.stop()
  })

  it('status shows listen off and relay connected; discover shows bob reachable through the relay only', async () => {
    const s = await status(alice)
    expect(s.listen).toEqual({ host: 'off', port: 0 })
    expect(s.relay).toEqual({ connected: true })
    const found = await alice.rpc('discover')
    expect(found.find((p) => p.userId === 'bob')?.port).toBe(0)
  })

  it('they chat both ways through the relay, and peers says relayed', async () => {
    expect((await alice.rpc('send', { to: 'bob', text: 'secret-one from alice', timeout: 15 })).status).toBe('delivered')
    expect((await bob.rpc('send', { to: 'alice', text: 'secret-two from bob', timeout: 15 })).status).toBe('delivered')
    expect(await history(bob, 'alice')).toEqual(['alice: secret-one from alice', 'bob: secret-two from bob'])
    const peers = await alice.rpc('peers')
    expect(peers.find((p) => p.userId === 'bob')).toMatchObject({ connected: true, link: 'relayed' })
  })

  it("the relay's bytes hold no message text (all traffic to the server went through a recording proxy)", () => {
    const seen = proxy.bytes()
    expect(seen.length).toBeGreaterThan(1000)
    expect(seen.includes('secret-one')).toBe(false)
    expect(seen.includes('secret-two')).toBe(false)
    // The proxy did see the relay protocol itself: the check above looked at the right bytes.
    expect(seen.includes('p2p-relay')).toBe(true)
  })

  it('mute and block hold through the relay; an offline peer gets its queue when it is back', async () => {
    await bob.rpc('mute', { peer: 'alice' })
    expect((await alice.rpc('send', { to: 'bob', text: 'while muted', timeout: 15 })).status).toBe('delivered')
    await bob.rpc('unmute', { peer: 'alice' })
    await bob.rpc('block', { peer: 'alice' })
    expect((await alice.rpc('send', { to: 'bob', text: 'while blocked', timeout: 2 })).status).toBe('queued')
    expect(await history(bob, 'alice')).not.toContain('alice: while blocked')
    await bob.rpc('unblock', { peer: 'alice' })
    await eventually(async () => expect(await history(bob, 'alice')).toContain('alice: while blocked'), { timeout: 20_000 })

    const home = bob.home
    await bob.stop()
    expect((await alice.rpc('send', { to: 'bob', text: 'while bob is away', timeout: 1 })).status).toBe('queued')
    bob = await relayOnly('bob', proxy.url, home)
    await eventually(async () => expect(await history(bob, 'alice')).toContain('alice: while bob is away'), { timeout: 20_000 })
    const texts = await history(bob, 'alice')
    expect(texts.filter((t) => t === 'alice: while muted')).toHaveLength(1)
  })
})

describe('a server killed mid-conversation', () => {
  it('the daemons reconnect their relay connection when it is back, and what was queued flows, once each, in order', async () => {
    let server = await startServerProcess({ ttl: 5 })
    const [alice, bob] = await Promise.all([relayOnly('alice', server.url), relayOnly('bob', server.url)])
    try {
      expect((await alice.rpc('send', { to: 'bob', text: 'before', timeout: 15 })).status).toBe('delivered')
      const port = server.port
      await server.kill()
      await eventually(async () => expect((await status(alice)).relay?.connected).toBe(false))
      const texts = Array.from({ length: 20 }, (_, i) => `during ${i}`)
      for (const text of texts) await alice.rpc('send', { to: 'bob', text, timeout: 0 })
      server = await restartServerProcess(port, { ttl: 5 })
      await eventually(async () => expect((await status(alice)).relay?.connected).toBe(true), { timeout: 20_000 })
      await eventually(async () => expect(await history(bob, 'alice')).toHaveLength(21), { timeout: 30_000 })
      expect(await history(bob, 'alice')).toEqual(['alice: before', ...texts.map((t) => `alice: ${t}`)])
      // Bob has stored them; alice hears so once his acks (sent after his fsync) reach her.
      await eventually(async () => expect((await status(alice)).outbox.queued).toBe(0))
    } finally {
      await Promise.all([alice.stop(), bob.stop()])
      await server.stop()
    }
  }, 90_000)
})

describe('p2p daemon start --listen off --advertise', () => {
  it('are remembered in the profile like --port, and a malformed --advertise is a usage error', async () => {
    const home = tempHome()
    const server = await startServerProcess({ ttl: 5 })
    try {
      const bad = await p2p(['daemon', 'start', '--user', 'carol', '--server', server.url, '--advertise', 'http://x'], { home })
      expect(bad.code).toBe(2)
      expect(bad.stderr).toMatch(/--advertise/)
      const first = await p2p(
        ['daemon', 'start', '--user', 'carol', '--server', server.url, '--listen', 'off', '--advertise', '203.0.113.9:7000'],
        { home },
      )
      expect(first.code, first.stderr).toBe(0)
      expect(first.stdout).toMatch(/^daemon started for carol \(pid \d+\), no peer port \(reachable through the relay only\), server /)
      const statusJson = async () => JSON.parse((await p2p(['daemon', 'status', '--json'], { home })).stdout)
      expect((await statusJson()).listen).toEqual({ host: 'off', port: 0 })
      await eventually(async () => (await statusJson()).relay.connected)
      expect((await p2p(['daemon', 'stop'], { home })).code).toBe(0)
      expect((await p2p(['daemon', 'start'], { home })).code).toBe(0)
      expect((await statusJson()).listen).toEqual({ host: 'off', port: 0 })
      const seen = await fetch(`${server.url}/v1/peers/carol`).then((r) => r.json())
      expect(seen).toMatchObject({ host: '203.0.113.9', port: 7000 })
    } finally {
      await p2p(['daemon', 'stop'], { home })
      await server.stop()
    }
  }, 120_000)
})
