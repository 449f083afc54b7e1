/**
 * Several server instances on one Redis (SPEC section 3): one namespace, whichever instance a
 * request reaches. Real instances (in this process) on a real redis-server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { leaseMac, openLeaseKey } from '../../src/protocol/lease-proof.js'
import { eventually } from '../helpers/eventually.js'
import { type RedisProcess, startRedis } from '../helpers/redis.js'
import { freshTs, get, leaseBody, makeUser, post, registerBody, startTestServer, type TestServer } from './support.js'

let redis: RedisProcess
let servers: TestServer[] = []

beforeAll(async () => {
  redis = await startRedis()
})
afterAll(() => redis?.dispose())
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()))
  servers = []
  redis.cli('flushall')
})

async function instances(n: number, options: Parameters<typeof startTestServer>[1] = {}): Promise<TestServer[]> {
  const started = await Promise.all(Array.from({ length: n }, () => startTestServer('memory', { redisUrl: redis.url, ...options })))
  servers.push(...started)
  return started
}

describe('two instances on one Redis', () => {
  it('alice registered on one and bob on the other find each other on either', async () => {
    const [a, b] = await instances(2)
    const alice = makeUser('alice')
    const bob = makeUser('bob')
    expect((await post(a!.url, '/v1/register', registerBody(alice, { port: 7001 }))).status).toBe(200)
    expect((await post(b!.url, '/v1/register', registerBody(bob, { port: 7002 }))).status).toBe(200)
    expect((await get(a!.url, '/v1/peers/bob')).json).toMatchObject({ userId: 'bob', port: 7002, publicKey: bob.publicKey })
    expect((await get(b!.url, '/v1/peers/alice')).json).toMatchObject({ userId: 'alice', port: 7001, publicKey: alice.publicKey })
    for (const s of [a!, b!]) {
      const list = await eventually(async () => {
        const r = await get(s.url, '/v1/peers?limit=10')
        return r.json.peers.length === 2 ? r.json : undefined
      })
      expect(list.peers.map((p: { userId: string }) => p.userId)).toEqual(['alice', 'bob'])
    }
    // A keep-alive through the other instance renews the same lease; unregistering there ends it everywhere.
    expect((await post(b!.url, '/v1/keepalive', leaseBody(alice, 'keepalive'))).status).toBe(200)
    expect((await post(b!.url, '/v1/unregister', leaseBody(alice, 'unregister'))).status).toBe(204)
    expect((await get(a!.url, '/v1/peers/alice')).status).toBe(404)
  })

  it('a user id bound on one instance cannot be taken on another', async () => {
    const [a, b] = await instances(2)
    expect((await post(a!.url, '/v1/register', registerBody(makeUser('carol')))).status).toBe(200)
    const thief = await post(b!.url, '/v1/register', registerBody(makeUser('carol')))
    expect(thief.status).toBe(409)
    expect(thief.json.error.code).toBe('user_id_taken')
  })

  it('a request replayed to another instance is refused', async () => {
    const [a, b] = await instances(2)
    const dave = makeUser('dave')
    expect((await post(a!.url, '/v1/register', registerBody(dave))).status).toBe(200)
    const keepalive = leaseBody(dave, 'keepalive')
    expect((await post(a!.url, '/v1/keepalive', keepalive)).status).toBe(200)
    const replay = await post(b!.url, '/v1/keepalive', keepalive)
    expect(replay.status).toBe(401)
    expect(replay.json.error.code).toBe('replayed')
    const register = registerBody(makeUser('erin'))
    expect((await post(b!.url, '/v1/register', register)).status).toBe(200)
    expect((await post(a!.url, '/v1/register', register)).json.error.code).toBe('replayed')
  })

  it('shares one rate limit per address across instances', async () => {
    const [a, b] = await instances(2, { rateLimit: { perSecond: 0.5, burst: 4 } })
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await get(i % 2 ? b!.url : a!.url, '/v1/peers/nobody')).status)
    // Each instance alone would allow 4: together they allow 4 in all.
    expect(statuses).toEqual([404, 404, 404, 404, 429, 429])
  })

  it('takes the client address from X-Forwarded-For only when the socket peer is a listed proxy', async () => {
    const [trusting] = await instances(1, { trustProxy: new Set(['127.0.0.1']) })
    const [plain] = await instances(1)
    const send = (url: string, body: unknown) =>
      fetch(`${url}/v1/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.1, 203.0.113.9' },
        body: JSON.stringify(body),
      })
    expect((await send(trusting!.url, registerBody(makeUser('frank')))).status).toBe(200)
    expect((await get(trusting!.url, '/v1/peers/frank')).json.host).toBe('203.0.113.9')
    expect((await send(plain!.url, registerBody(makeUser('grace')))).status).toBe(200)
    expect((await get(plain!.url, '/v1/peers/grace')).json.host).toBe('127.0.0.1')
  })
})

describe('lease proofs across instances', () => {
  it('a lease key from one instance proves keep-alives on the other; a replayed or forged MAC is refused', async () => {
    const [a, b] = await instances(2)
    const judy = makeUser('judy')
    const reg = await post(a!.url, '/v1/register', registerBody(judy))
    const leaseKey = openLeaseKey(reg.json.leaseKey, judy.identity)!
    expect(leaseKey).toHaveLength(32)
    const body = (ts = freshTs(), key = leaseKey) => ({ userId: 'judy', ts, mac: leaseMac(key, { userId: 'judy', ts }) })
    const proven = body()
    expect((await post(b!.url, '/v1/keepalive', proven)).status).toBe(200)
    expect((await post(a!.url, '/v1/keepalive', proven)).json.error.code).toBe('replayed')
    const forged = await post(a!.url, '/v1/keepalive', body(freshTs(), Buffer.alloc(32, 1)))
    expect(forged.status).toBe(401)
    expect(forged.json.error.code).toBe('bad_signature')
    // A signed keep-alive (an older daemon) is still accepted.
    expect((await post(a!.url, '/v1/keepalive', leaseBody(judy, 'keepalive'))).status).toBe(200)
  })
})

describe('bound keys cached by an instance', () => {
  /** Registers `user` at `url` and returns keep-alive bodies proven with the lease key it got. */
  async function leased(url: string, user: ReturnType<typeof makeUser>) {
    const reg = await post(url, '/v1/register', registerBody(user))
    expect(reg.status).toBe(200)
    const key = openLeaseKey(reg.json.leaseKey, user.identity)!
    return () => {
      const ts = freshTs()
      return { userId: user.userId, ts, mac: leaseMac(key, { userId: user.userId, ts }) }
    }
  }

  it('a name taken over by another key on another instance: the old key is refused, the new one served, on both', async () => {
    // A caches each name's first key at registration; the names lapse and new keys take them on B.
    const [a, b] = await instances(2, { ttlSeconds: 1, reservationSeconds: 1 })
    const oldKim = await leased(a!.url, makeUser('kim'))
    const oldLee = await leased(a!.url, makeUser('lee'))
    expect((await post(a!.url, '/v1/keepalive', oldKim())).status).toBe(200)
    expect((await post(a!.url, '/v1/keepalive', oldLee())).status).toBe(200)
    const newKim = makeUser('kim')
    const newLee = makeUser('lee')
    await eventually(async () => (await post(b!.url, '/v1/register', registerBody(newKim))).status === 200, { timeout: 10_000 })
    await eventually(async () => (await post(b!.url, '/v1/register', registerBody(newLee))).status === 200, { timeout: 10_000 })
    const kimNow = await leased(b!.url, newKim)
    const leeNow = await leased(b!.url, newLee)
    // kim's old key first: its proof holds under the key A cached, Redis refuses that binding.
    const stale = await post(a!.url, '/v1/keepalive', oldKim())
    expect(stale.status).toBe(401)
    expect(stale.json.error.code).toBe('bad_signature')
    expect((await post(a!.url, '/v1/keepalive', kimNow())).status).toBe(200)
    // lee's new key first: its proof fails under the cached key, so A reads the binding again.
    expect((await post(a!.url, '/v1/keepalive', leeNow())).status).toBe(200)
    expect((await post(a!.url, '/v1/keepalive', oldLee())).json.error.code).toBe('bad_signature')
    expect((await get(a!.url, '/v1/keys/lee')).json.publicKey).toBe(newLee.publicKey)
  })
})

describe('Redis restarting', () => {
  it('instances answer 503 on /healthz and on requests while Redis is down, then recover by themselves', async () => {
    const [a, b] = await instances(2)
    const heidi = makeUser('heidi')
    expect((await get(a!.url, '/healthz')).status).toBe(200)
    expect((await post(a!.url, '/v1/register', registerBody(heidi))).status).toBe(200)

    await redis.stop()
    for (const s of [a!, b!]) {
      const health = await eventually(async () => {
        const r = await get(s.url, '/healthz')
        return r.status === 503 ? r : undefined
      })
      expect(health.json.error.code).toBe('unavailable')
    }
    const during = await post(b!.url, '/v1/register', registerBody(heidi))
    expect(during.status).toBe(503)
    expect(during.json.error.code).toBe('unavailable')

    await redis.start()
    for (const s of [a!, b!]) await eventually(async () => (await get(s.url, '/healthz')).status === 200, { timeout: 20_000 })
    // An empty Redis (no persistence): the daemon registers again and the scripts load again.
    expect((await post(b!.url, '/v1/register', registerBody(heidi))).status).toBe(200)
    expect((await get(a!.url, '/v1/peers/heidi')).json.publicKey).toBe(heidi.publicKey)
  })
})
