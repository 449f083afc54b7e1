/** The HTTP surface of SPEC section 3, against a real server on port 0, for both registry backends. */
import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ErrorResponseSchema,
  MAX_BODY_BYTES,
  PeerListSchema,
  PeerRecordSchema,
  RegisterResponseSchema,
} from '../../src/protocol/discovery.js'
import { generateIdentity } from '../../src/protocol/identity.js'
import { MemoryRegistry } from '../../src/server/memory-registry.js'
import { eventually } from '../helpers/eventually.js'
import {
  type Backend,
  get,
  type JsonResponse,
  leaseBody,
  makeUser,
  post,
  registerBody,
  request,
  startTestServer,
  type TestServer,
} from './support.js'

function expectError(res: JsonResponse, status: number, code: string): void {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  expect(ErrorResponseSchema.parse(res.json).error.code).toBe(code)
  expect(res.json.error.message.length).toBeGreaterThan(0)
}

describe.each<Backend>(['memory', 'sqlite'])('discovery API (%s registry)', (backend) => {
  let server: TestServer
  let url: string
  beforeAll(async () => {
    server = await startTestServer(backend, { ttlSeconds: 30 })
    url = server.url
  })
  afterAll(() => server.close())

  it('answers /healthz', async () => {
    const res = await get(url, '/healthz')
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ ok: true })
  })

  it('registers a peer under its lower-case id, at the address the request came from', async () => {
    const alice = makeUser('Alice')
    const before = Date.now()
    const res = await post(url, '/v1/register', registerBody(alice, { port: 7001 }))
    expect(res.status).toBe(200)
    const body = RegisterResponseSchema.parse(res.json)
    expect(body).toMatchObject({ userId: 'alice', host: '127.0.0.1', port: 7001 })
    const expiresAt = Date.parse(body.expiresAt)
    expect(expiresAt).toBeGreaterThanOrEqual(before + 29_000)
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 30_000)

    const peer = await get(url, '/v1/peers/ALICE')
    expect(peer.status).toBe(200)
    expect(PeerRecordSchema.parse(peer.json)).toMatchObject({ userId: 'alice', publicKey: alice.publicKey, host: '127.0.0.1', port: 7001 })
    expect(Number.isNaN(Date.parse(peer.json.lastSeen))).toBe(false)
  })

  it('records the host the client names', async () => {
    const res = await post(url, '/v1/register', registerBody(makeUser('hosted'), { host: 'peer.example.org', port: 7002 }))
    expect(res.status).toBe(200)
    expect(res.json.host).toBe('peer.example.org')
    expect((await get(url, '/v1/peers/hosted')).json.host).toBe('peer.example.org')
  })

  it('re-registering with the same key moves the lease', async () => {
    const mover = makeUser('mover')
    expect((await post(url, '/v1/register', registerBody(mover, { port: 7003 }))).status).toBe(200)
    expect((await post(url, '/v1/register', registerBody(mover, { port: 7004 }))).status).toBe(200)
    expect((await get(url, '/v1/peers/mover')).json.port).toBe(7004)
  })

  it('keep-alive extends the lease', async () => {
    const bob = makeUser('bob')
    const reg = await post(url, '/v1/register', registerBody(bob))
    await new Promise((r) => setTimeout(r, 20))
    const res = await post(url, '/v1/keepalive', leaseBody(bob, 'keepalive'))
    expect(res.status).toBe(200)
    expect(Object.keys(res.json)).toEqual(['expiresAt'])
    expect(Date.parse(res.json.expiresAt)).toBeGreaterThan(Date.parse(reg.json.expiresAt))
  })

  it('unregister takes the peer offline, idempotently', async () => {
    const dave = makeUser('dave')
    await post(url, '/v1/register', registerBody(dave))
    const res = await post(url, '/v1/unregister', leaseBody(dave, 'unregister'))
    expect(res.status).toBe(204)
    expect(res.json).toBeUndefined()
    expectError(await get(url, '/v1/peers/dave'), 404, 'not_found')
    expectError(await post(url, '/v1/keepalive', leaseBody(dave, 'keepalive')), 404, 'not_found')
    const list = await get(url, '/v1/peers?limit=1000')
    expect(list.json.peers.map((p: { userId: string }) => p.userId)).not.toContain('dave')
    expect((await post(url, '/v1/unregister', leaseBody(dave, 'unregister'))).status).toBe(204)
    // Offline is not unbound: the name stays with dave's key.
    expectError(await post(url, '/v1/register', registerBody(makeUser('dave'))), 409, 'user_id_taken')
  })

  it('refuses a user id bound to another key with 409 and leaves the binding alone', async () => {
    const carol = makeUser('carol')
    await post(url, '/v1/register', registerBody(carol, { port: 7010 }))
    const impostor = makeUser('CAROL')
    expectError(await post(url, '/v1/register', registerBody(impostor, { port: 7666 })), 409, 'user_id_taken')
    const peer = await get(url, '/v1/peers/carol')
    expect(peer.json).toMatchObject({ publicKey: carol.publicKey, port: 7010 })
    // The impostor cannot keep the lease alive or drop it either: those verify against the bound key.
    expectError(await post(url, '/v1/keepalive', leaseBody(impostor, 'keepalive')), 401, 'bad_signature')
    expectError(await post(url, '/v1/unregister', leaseBody(impostor, 'unregister')), 401, 'bad_signature')
    expect((await get(url, '/v1/peers/carol')).status).toBe(200)
  })

  it('keep-alive for an unknown user id is 404', async () => {
    expectError(await post(url, '/v1/keepalive', leaseBody(makeUser('nobody'), 'keepalive')), 404, 'not_found')
    expectError(await post(url, '/v1/unregister', leaseBody(makeUser('nobody'), 'unregister')), 404, 'not_found')
    expectError(await get(url, '/v1/peers/nobody'), 404, 'not_found')
  })

  it('paginates online peers in user id order', async () => {
    const ids = ['pg-e', 'pg-a', 'pg-g', 'pg-c', 'pg-b', 'pg-f', 'pg-d']
    for (const id of ids) expect((await post(url, '/v1/register', registerBody(makeUser(id)))).status).toBe(200)
    const all = (await get(url, '/v1/peers?limit=1000')).json.peers.map((p: { userId: string }) => p.userId)
    expect(all).toEqual([...all].sort())

    const seen: string[] = []
    const pages: number[] = []
    let cursor: string | undefined
    do {
      const res = await get(url, `/v1/peers?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      expect(res.status).toBe(200)
      const page = PeerListSchema.parse(res.json)
      pages.push(page.peers.length)
      seen.push(...page.peers.map((p) => p.userId))
      cursor = page.next
    } while (cursor)
    expect(seen).toEqual(all)
    expect(pages.length).toBe(Math.ceil(all.length / 3))
    expect(pages.slice(0, -1).every((n) => n === 3)).toBe(true)
    for (const id of ids) expect(seen).toContain(id)
  })

  it('omits `next` on the last page', async () => {
    const res = await get(url, '/v1/peers?limit=1000')
    expect(res.status).toBe(200)
    expect(res.json.next).toBeUndefined()
    expect(res.json.peers.length).toBeGreaterThan(0)
  })

  describe('bad input', () => {
    const user = makeUser('erin')

    it('malformed JSON is 400', async () => {
      expectError(await post(url, '/v1/register', '{"userId": "erin",'), 400, 'bad_request')
      expectError(await post(url, '/v1/keepalive', ''), 400, 'bad_request')
    })

    it('a body that is not an object is 400', async () => {
      expectError(await post(url, '/v1/register', '[1,2]'), 400, 'bad_request')
      expectError(await post(url, '/v1/register', 'null'), 400, 'bad_request')
    })

    it('missing fields are 400', async () => {
      const { sig: _sig, ...unsigned } = registerBody(user)
      expectError(await post(url, '/v1/register', unsigned), 400, 'bad_request')
      const { port: _port, ...portless } = registerBody(user)
      const res = await post(url, '/v1/register', portless)
      expectError(res, 400, 'bad_request')
      expect(res.json.error.message).toContain('port')
    })

    it('extra fields are 400', async () => {
      const res = await post(url, '/v1/register', { ...registerBody(user), admin: true })
      expectError(res, 400, 'bad_request')
      expect(res.json.error.message).toContain('admin')
      expectError(await post(url, '/v1/keepalive', { ...leaseBody(user, 'keepalive'), port: 1 }), 400, 'bad_request')
    })

    it('wrong types are 400', async () => {
      expectError(await post(url, '/v1/register', { ...registerBody(user), port: '7000' }), 400, 'bad_request')
      expectError(await post(url, '/v1/register', { ...registerBody(user), port: 70000 }), 400, 'bad_request')
      expectError(await post(url, '/v1/register', { ...registerBody(user), ts: String(Date.now()) }), 400, 'bad_request')
      expectError(await post(url, '/v1/register', { ...registerBody(user), userId: 42 }), 400, 'bad_request')
      expectError(await post(url, '/v1/register', { ...registerBody(user), publicKey: 'zz' }), 400, 'bad_request')
      expectError(await post(url, '/v1/register', { ...registerBody(user), host: 'http://x/y' }), 400, 'bad_request')
    })

    it('an invalid user id is 400', async () => {
      for (const bad of ['-lead', '', 'a'.repeat(33), 'sp ace', 'ünï']) {
        const res = await post(url, '/v1/register', { ...registerBody(user), userId: bad })
        expect(res.status, bad).toBe(400)
      }
      expectError(await post(url, '/v1/register', registerBody(makeUser('.dot'))), 400, 'invalid_user_id')
      expectError(await get(url, '/v1/peers/has%20space'), 400, 'invalid_user_id')
      expectError(await get(url, '/v1/peers/%E0%A4%A'), 400, 'bad_request')
    })

    it('bad peer-list queries are 400', async () => {
      expectError(await get(url, '/v1/peers?limit=0'), 400, 'bad_request')
      expectError(await get(url, '/v1/peers?limit=abc'), 400, 'bad_request')
      expectError(await get(url, '/v1/peers?limit=1001'), 400, 'bad_request')
      expectError(await get(url, `/v1/peers?cursor=${'x'.repeat(65)}`), 400, 'bad_request')
    })

    it('a body over 16 KiB is 413 and the server keeps serving', async () => {
      const big = JSON.stringify({ ...registerBody(user), pad: 'x'.repeat(MAX_BODY_BYTES) })
      expectError(await post(url, '/v1/register', big), 413, 'too_large')
      expect((await get(url, '/healthz')).status).toBe(200)
    })

    it('a chunked body is cut off once it passes the cap', async () => {
      // No Content-Length: the server can only count as the bytes arrive.
      const { port } = new URL(url)
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v1/register',
          headers: { 'transfer-encoding': 'chunked' },
        })
        req.on('response', (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        const chunk = 'x'.repeat(4096)
        for (let i = 0; i < 6; i++) req.write(chunk)
        req.end()
      })
      expect(status).toBe(413)
      expect((await get(url, '/healthz')).status).toBe(200)
    })

    it('a bad signature is 401', async () => {
      const body = registerBody(user)
      const flipped = body.sig.slice(0, -1) + (body.sig.endsWith('0') ? '1' : '0')
      expectError(await post(url, '/v1/register', { ...body, sig: flipped }), 401, 'bad_signature')
      // A signature over other fields: the port was changed after signing.
      expectError(await post(url, '/v1/register', { ...registerBody(user, { port: 7000 }), port: 7001 }), 401, 'bad_signature')
      // Signed by one key, claiming another.
      const other = makeUser('erin', generateIdentity())
      expectError(await post(url, '/v1/register', { ...registerBody(other), publicKey: user.publicKey }), 401, 'bad_signature')
      expectError(await get(url, '/v1/peers/erin'), 404, 'not_found')
    })

    it('a keep-alive signature cannot pass as an unregister', async () => {
      const frank = makeUser('frank')
      await post(url, '/v1/register', registerBody(frank))
      expectError(await post(url, '/v1/unregister', leaseBody(frank, 'keepalive')), 401, 'bad_signature')
      expect((await get(url, '/v1/peers/frank')).status).toBe(200)
    })

    it('a timestamp outside the window is 401', async () => {
      expectError(await post(url, '/v1/register', registerBody(user, { ts: Date.now() - 31_000 })), 401, 'stale_timestamp')
      expectError(await post(url, '/v1/register', registerBody(user, { ts: Date.now() + 31_000 })), 401, 'stale_timestamp')
      expectError(await get(url, '/v1/peers/erin'), 404, 'not_found')
    })

    it('a replayed request is 401', async () => {
      const gina = makeUser('gina')
      const reg = registerBody(gina)
      expect((await post(url, '/v1/register', reg)).status).toBe(200)
      expectError(await post(url, '/v1/register', reg), 401, 'replayed')
      const ka = leaseBody(gina, 'keepalive')
      expect((await post(url, '/v1/keepalive', ka)).status).toBe(200)
      expectError(await post(url, '/v1/keepalive', ka), 401, 'replayed')
      const un = leaseBody(gina, 'unregister')
      expect((await post(url, '/v1/unregister', un)).status).toBe(204)
      await post(url, '/v1/register', registerBody(gina))
      expectError(await post(url, '/v1/unregister', un), 401, 'replayed')
      expect((await get(url, '/v1/peers/gina')).status).toBe(200)
    })

    it('an unknown route is 404 and a wrong method 405', async () => {
      expectError(await get(url, '/v2/peers'), 404, 'not_found')
      expectError(await get(url, '/'), 404, 'not_found')
      const res = await get(url, '/v1/register')
      expectError(res, 405, 'method_not_allowed')
      expect(res.headers.get('allow')).toBe('POST')
      expectError(await request(url, 'DELETE', '/v1/peers/alice'), 405, 'method_not_allowed')
      expectError(await post(url, '/healthz', {}), 405, 'method_not_allowed')
    })
  })
})

describe('lease expiry', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer('sqlite', { ttlSeconds: 1 })
  })
  afterAll(() => server.close())

  it('drops a peer after the TTL but keeps its name reserved', async () => {
    const hank = makeUser('hank')
    expect((await post(server.url, '/v1/register', registerBody(hank))).status).toBe(200)
    expect((await get(server.url, '/v1/peers/hank')).status).toBe(200)
    await eventually(async () => (await get(server.url, '/v1/peers/hank')).status === 404)
    expect((await get(server.url, '/v1/peers')).json.peers).toEqual([])
    expectError(await post(server.url, '/v1/keepalive', leaseBody(hank, 'keepalive')), 404, 'not_found')
    expectError(await post(server.url, '/v1/register', registerBody(makeUser('hank'))), 409, 'user_id_taken')
    // The owner comes back by registering again.
    expect((await post(server.url, '/v1/register', registerBody(hank))).status).toBe(200)
    expect((await get(server.url, '/v1/peers/hank')).json.publicKey).toBe(hank.publicKey)
  })

  it('keep-alives hold a lease past its first TTL', async () => {
    const ivy = makeUser('ivy')
    await post(server.url, '/v1/register', registerBody(ivy))
    const until = Date.now() + 1600
    while (Date.now() < until) {
      expect((await post(server.url, '/v1/keepalive', leaseBody(ivy, 'keepalive'))).status).toBe(200)
      await new Promise((r) => setTimeout(r, 300))
    }
    expect((await get(server.url, '/v1/peers/ivy')).status).toBe(200)
  })
})

describe('name reservation', () => {
  it('lets another key take a name once its reservation has lapsed', async () => {
    const server = await startTestServer('memory', { ttlSeconds: 1, reservationSeconds: 1 })
    try {
      await post(server.url, '/v1/register', registerBody(makeUser('jo')))
      const newcomer = makeUser('jo')
      await eventually(async () => (await post(server.url, '/v1/register', registerBody(newcomer))).status === 200)
      expect((await get(server.url, '/v1/peers/jo')).json.publicKey).toBe(newcomer.publicKey)
    } finally {
      await server.close()
    }
  })
})

/** Sends one GET from a chosen local address (all of 127/8 is loopback on Linux). */
function getFrom(localAddress: string, base: string, path: string): Promise<number> {
  const { port } = new URL(base)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('rate limiting', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer('memory', { rateLimit: { perSecond: 1, burst: 5 } })
  })
  afterAll(() => server.close())

  it('answers a flood from one address with 429', async () => {
    const statuses = await Promise.all(Array.from({ length: 20 }, () => get(server.url, '/healthz')))
    const limited = statuses.filter((r) => r.status === 429)
    expect(statuses.filter((r) => r.status === 200).length).toBeLessThanOrEqual(6)
    expect(limited.length).toBeGreaterThanOrEqual(14)
    expectError(limited[0]!, 429, 'rate_limited')
    expect(limited[0]!.headers.get('retry-after')).toBe('1')
  })

  it.skipIf(process.platform !== 'linux')('keeps serving another address meanwhile', async () => {
    const flood = await Promise.all(Array.from({ length: 10 }, () => getFrom('127.0.0.1', server.url, '/healthz')))
    expect(flood).toContain(429)
    expect(await getFrom('127.0.0.2', server.url, '/healthz')).toBe(200)
    expect(await getFrom('127.0.0.3', server.url, '/v1/peers')).toBe(200)
  })
})

describe('handler failures', () => {
  it('become 500 internal and a log line, and other requests are still served', async () => {
    class BrokenRegistry extends MemoryRegistry {
      override async peer(): Promise<never> {
        throw new Error('disk on fire')
      }
    }
    const server = await startTestServer('memory', { registry: new BrokenRegistry() })
    try {
      expectError(await get(server.url, '/v1/peers/alice'), 500, 'internal')
      expect((await get(server.url, '/healthz')).status).toBe(200)
      expect((await post(server.url, '/v1/register', registerBody(makeUser('kim')))).status).toBe(200)
      const line = server.logs.find((l) => l.msg === 'request failed')
      expect(line).toBeDefined()
      expect(JSON.stringify(line)).toContain('disk on fire')
    } finally {
      await server.close()
    }
  })
})
