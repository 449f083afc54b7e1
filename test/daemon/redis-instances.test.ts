/**
 * Two `p2p server` processes on one Redis, real daemons each given both (`--server A,B`): users on
 * different instances find and reach each other, and when an instance dies its daemons move to the
 * other one by themselves, losing nothing.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DaemonProcess, startDaemonProcess, status } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { type RedisProcess, startRedis } from '../helpers/redis.js'
import { type ServerProcess, startServerProcess } from '../helpers/server.js'

describe('two server instances on one Redis, daemons with a failover list', () => {
  let redis: RedisProcess
  let a: ServerProcess
  let b: ServerProcess
  let alice: DaemonProcess
  let bob: DaemonProcess

  beforeAll(async () => {
    redis = await startRedis()
    const instance = () => startServerProcess({ ttl: 3, memory: false, args: ['--redis', redis.url, '--rate-limit', '0'] })
    ;[a, b] = await Promise.all([instance(), instance()])
    ;[alice, bob] = await Promise.all([
      startDaemonProcess({ userId: 'alice', serverUrl: `${a.url},${b.url}` }),
      startDaemonProcess({ userId: 'bob', serverUrl: `${b.url},${a.url}` }),
    ])
    for (const d of [alice, bob]) await eventually(async () => (await status(d)).server.registered)
  })

  afterAll(async () => {
    await Promise.all([alice?.stop(), bob?.stop()])
    await Promise.all([a?.stop(), b?.stop()])
    await redis?.dispose()
  })

  it('alice (on one instance) and bob (on the other) find and reach each other', async () => {
    const found = await eventually(async () => {
      const peers = await alice.rpc('discover')
      return peers.find((p) => p.userId === 'bob' && p.online)
    })
    expect(found.port).toBe(bob.port)
    expect((await alice.rpc('send', { to: 'bob', text: 'hi bob, from instance A' })).status).toBe('delivered')
    expect((await bob.rpc('send', { to: 'alice', text: 'hi alice, from instance B' })).status).toBe('delivered')
    // Each registered where its list starts: alice's lease was last written through A, bob's through B.
    expect((await fetch(`${b.url}/v1/peers/alice`)).status).toBe(200)
    expect((await fetch(`${a.url}/v1/peers/bob`)).status).toBe(200)
  })

  it('killing an instance: its daemons move to the other and nothing is lost', async () => {
    await a.kill()
    const killedAt = Date.now()
    const texts = Array.from({ length: 20 }, (_, i) => `during failover ${i}`)
    for (const text of texts) await alice.rpc('send', { to: 'bob', text, timeout: 0 })
    // alice's keep-alives now reach B: her lease is renewed after the kill, past a whole ttl.
    await eventually(
      async () => {
        const r = await fetch(`${b.url}/v1/peers/alice`)
        if (r.status !== 200) return false
        const peer = (await r.json()) as { lastSeen: string }
        return Date.parse(peer.lastSeen) > killedAt + 3000
      },
      { timeout: 30_000 },
    )
    expect((await status(alice)).server.registered).toBe(true)
    expect(readFileSync(join(alice.home, 'daemon.log'), 'utf8')).toMatch(/"to":"http:\/\/127\.0\.0\.1:\d+".*discovery server failover/)
    expect((await bob.rpc('send', { to: 'alice', text: 'still here?' })).status).toBe('delivered')
    const history = await eventually(async () => {
      const h = await bob.rpc('history', { peer: 'alice' })
      return texts.every((t) => h.some((m) => m.text === t)) ? h : undefined
    })
    // Each once, in order.
    expect(history.filter((m) => m.text.startsWith('during failover')).map((m) => m.text)).toEqual(texts)
  })
})
