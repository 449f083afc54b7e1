/**
 * Relay circuits across server instances (issue 12, point 3), end to end: two `p2p server --redis
 * --relay-url` processes on one real redis-server, alice's daemon on A and bob's on B, both
 * `--listen off` so that no direct link is possible: everything goes through the relay.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DaemonProcess, eventually, p2p, startDaemonProcess, status } from '../helpers/daemon.js'
import { type RedisProcess, startRedis } from '../helpers/redis.js'
import { type ServerProcess, startServerProcess } from '../helpers/server.js'
import { tcpProxy } from '../helpers/tcp-proxy.js'

/** A TCP proxy to `target` that refuses every connection until opened: an instance bob cannot reach yet. */
async function gate(target: number): Promise<{ url: string; open(): void; close(): void }> {
  let open = false
  const proxy = await tcpProxy(target, { admit: () => open })
  return {
    ...proxy,
    open: () => {
      open = true
    },
  }
}

const history = async (d: DaemonProcess, peer: string) =>
  (await d.rpc('history', { peer, limit: 1000, includeMuted: true })).map((e) => `${e.from}: ${e.text}`)

async function relayReady(d: DaemonProcess): Promise<void> {
  await eventually(
    async () => {
      const s = await status(d)
      return s.server.registered && s.relay?.connected
    },
    { timeout: 30_000 },
  )
}

const splicedLines = (server: ServerProcess) =>
  server
    .stderr()
    .split('\n')
    .filter((l) => l.includes('relay: circuit spliced'))

describe('relay circuits across two server instances on one Redis', () => {
  let redis: RedisProcess
  let a: ServerProcess
  let b: ServerProcess
  let toA: Awaited<ReturnType<typeof gate>>
  let alice: DaemonProcess
  let bob: DaemonProcess

  beforeAll(async () => {
    redis = await startRedis()
    // No mailbox: a message that cannot cross the relay stays queued, so delivery proves the relay.
    const args = ['--redis', redis.url, '--relay-url', 'http://127.0.0.1:0', '--rate-limit', '0', '--no-mailbox', '--log-level', 'debug']
    ;[a, b] = await Promise.all([startServerProcess({ ttl: 6, memory: false, args }), startServerProcess({ ttl: 6, memory: false, args })])
    toA = await gate(a.port)
    ;[alice, bob] = await Promise.all([
      startDaemonProcess({ userId: 'alice', serverUrl: a.url, args: ['--listen', 'off'] }),
      // Bob's second instance is A behind a gate that stays shut until the test opens it.
      startDaemonProcess({ userId: 'bob', serverUrl: `${b.url},${toA.url}`, args: ['--listen', 'off'] }),
    ])
    await Promise.all([relayReady(alice), relayReady(bob)])
  }, 90_000)

  afterAll(async () => {
    await Promise.all([alice?.stop(), bob?.stop()])
    toA?.close()
    await Promise.all([a?.stop(), b?.stop()])
    await redis?.dispose()
  })

  it('alice on A and bob on B chat both ways through the relay, each message once, in order', async () => {
    expect((await alice.rpc('send', { to: 'bob', text: 'alice 0', timeout: 20 })).status).toBe('delivered')
    const fromAlice = Array.from({ length: 9 }, (_, i) => `alice ${i + 1}`)
    const fromBob = Array.from({ length: 10 }, (_, i) => `bob ${i}`)
    for (const text of fromAlice) await alice.rpc('send', { to: 'bob', text, timeout: 0 })
    for (const text of fromBob) await bob.rpc('send', { to: 'alice', text, timeout: 0 })
    const expected = ['alice 0', ...fromAlice].map((t) => `alice: ${t}`)
    await eventually(async () => expect((await history(bob, 'alice')).filter((t) => t.startsWith('alice:'))).toEqual(expected), {
      timeout: 30_000,
    })
    await eventually(
      async () => expect((await history(alice, 'bob')).filter((t) => t.startsWith('bob:'))).toEqual(fromBob.map((t) => `bob: ${t}`)),
      { timeout: 30_000 },
    )

    const peers = JSON.parse((await p2p(['peers', '--json'], { home: alice.home })).stdout) as { userId: string; link?: string }[]
    expect(peers.find((p) => p.userId === 'bob')?.link).toBe('relayed')
    // The circuit alice asked for met on bob's instance, B: B spliced it, A only forwarded the pairing.
    expect(splicedLines(b).some((l) => l.includes('"a":"alice","b":"bob"'))).toBe(true)
    expect(splicedLines(a).some((l) => l.includes('"a":"alice","b":"bob"'))).toBe(false)
    expect(a.stderr()).toContain('relay: pairing forwarded')
  })

  it('B dies while bob is on it: alice gets peer_unreachable at once, her message stays queued, and flows once bob is on A', async () => {
    await b.kill()
    await eventually(async () => {
      const peers = await alice.rpc('peers')
      return peers.find((p) => p.userId === 'bob')?.connected === false
    })
    const sent = await alice.rpc('send', { to: 'bob', text: 'while B is down', timeout: 3 })
    expect(sent.status).toBe('queued')
    // A read bob's home (B, killed outright so its record is still there) and found nobody listening for B.
    expect(readFileSync(join(alice.home, 'daemon.log'), 'utf8')).toMatch(/is gone/)

    toA.open()
    await eventually(async () => expect((await status(bob)).relay?.connected).toBe(true), { timeout: 60_000 })
    await eventually(async () => expect(await history(bob, 'alice')).toContain('alice: while B is down'), { timeout: 60_000 })
    expect((await history(bob, 'alice')).filter((t) => t === 'alice: while B is down')).toHaveLength(1)
    await eventually(async () => expect((await status(alice)).outbox.queued).toBe(0))
  }, 120_000)
})
