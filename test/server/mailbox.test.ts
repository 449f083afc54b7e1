/** The mailbox endpoints of SPEC section 10 against a real in-process server, for both backends. */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toHex } from '../../src/protocol/identity.js'
import { MAX_SEALED_BYTES } from '../../src/protocol/limits.js'
import { FetchResponseSchema, signDelete, signFetch } from '../../src/protocol/mailbox.js'
import { seal } from '../../src/protocol/sealed-message.js'
import { type RedisProcess, startRedis } from '../helpers/redis.js'
import { type Backend, get, leaseBody, makeUser, post, registerBody, startTestServer, type TestServer, type User } from './support.js'

// Signed requests are checked against the server's clock, which the first tests move: `ts` follows it.
let clock = Date.now()
let tick = 0
const ts = () => clock + (tick++ % 10_000)
const box = (bytes: number, fill = 1) => Buffer.alloc(bytes, fill).toString('base64')
const fetchBody = (u: User, fields: { after?: string; limit?: number } = {}) =>
  signFetch(u.identity, { userId: u.userId, ts: ts(), ...fields })
const deleteBody = (u: User, ids: string[]) => signDelete(u.identity, { userId: u.userId, ids, ts: ts() })

async function fetchAll(url: string, u: User) {
  const res = await post(url, '/v1/mailbox/fetch', fetchBody(u))
  expect(res.status).toBe(200)
  return FetchResponseSchema.parse(res.json)
}

describe.each<Backend | 'redis'>(['memory', 'sqlite', 'redis'])('mailbox API (%s)', (backend) => {
  let server: TestServer
  let url: string
  let redis: RedisProcess | undefined
  const bob = makeUser('bob')
  const carol = makeUser('carol')
  beforeAll(async () => {
    clock = Date.now()
    if (backend === 'redis') redis = await startRedis()
    // A clock the test moves: expiry is 7 days, and the signed requests' window follows the same clock.
    const options = { now: () => clock, mailbox: { maxItems: 5, maxBytes: 4 * MAX_SEALED_BYTES } }
    server = await startTestServer(backend === 'redis' ? 'memory' : backend, { ...options, ...(redis ? { redisUrl: redis.url } : {}) })
    url = server.url
    for (const u of [bob, carol]) expect((await post(url, '/v1/register', registerBody(u))).status).toBe(200)
  })
  afterAll(async () => {
    await server.close()
    await redis?.dispose()
  })

  it('tells the key bound to a user id, online or not, and 404 for a name nobody owns', async () => {
    expect((await post(url, '/v1/unregister', leaseBody(carol, 'unregister'))).status).toBe(204)
    expect((await get(url, '/v1/peers/carol')).status).toBe(404)
    const res = await get(url, '/v1/keys/Carol')
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ userId: 'carol', publicKey: carol.publicKey })
    expect((await get(url, '/v1/keys/nobody')).json.error.code).toBe('not_found')
    expect((await get(url, '/v1/keys/-bad')).json.error.code).toBe('invalid_user_id')
  })

  it('takes deposits for a bound user, gives them back in order to its owner only, and deletes them', async () => {
    const ids: string[] = []
    for (const fill of [1, 2, 3]) {
      const res = await post(url, '/v1/mailbox/deposit', { to: 'Bob', box: box(1072, fill) })
      expect(res.status).toBe(201)
      expect(Date.parse(res.json.expiresAt)).toBe(clock + 7 * 86_400_000)
      ids.push(res.json.id)
    }
    // Nobody else can read them, not even with a signature of their own key.
    const forged = signFetch(carol.identity, { userId: 'bob', ts: ts() })
    expect((await post(url, '/v1/mailbox/fetch', forged)).json.error.code).toBe('bad_signature')
    const stale = signFetch(bob.identity, { userId: 'bob', ts: clock - 60_000 })
    expect((await post(url, '/v1/mailbox/fetch', stale)).json.error.code).toBe('stale_timestamp')

    const signed = fetchBody(bob, { limit: 2 })
    const page = await post(url, '/v1/mailbox/fetch', signed)
    expect(page.status).toBe(200)
    expect(page.json.items.map((i: { id: string }) => i.id)).toEqual(ids.slice(0, 2))
    expect(page.json.next).toBe(ids[1])
    expect(Buffer.from(page.json.items[1].box, 'base64')).toEqual(Buffer.alloc(1072, 2))
    expect((await post(url, '/v1/mailbox/fetch', signed)).json.error.code).toBe('replayed')
    const rest = FetchResponseSchema.parse((await post(url, '/v1/mailbox/fetch', fetchBody(bob, { after: ids[1] }))).json)
    expect(rest.items.map((i) => i.id)).toEqual([ids[2]])
    expect(rest.next).toBeUndefined()

    // carol cannot delete bob's items, even naming their ids under her own name.
    expect((await post(url, '/v1/mailbox/delete', deleteBody(carol, ids))).json).toEqual({ deleted: 0 })
    expect((await post(url, '/v1/mailbox/delete', deleteBody(bob, ids))).json).toEqual({ deleted: 3 })
    expect((await fetchAll(url, bob)).items).toEqual([])
  })

  it('refuses deposits for names nobody owns, and bodies that are not sealed items', async () => {
    expect((await post(url, '/v1/mailbox/deposit', { to: 'nobody', box: box(100) })).json.error.code).toBe('not_found')
    expect((await post(url, '/v1/mailbox/deposit', { to: 'bob', box: '!!' })).json.error.code).toBe('bad_request')
    expect((await post(url, '/v1/mailbox/deposit', { to: 'bob', box: '' })).json.error.code).toBe('bad_request')
    const tooBig = await post(url, '/v1/mailbox/deposit', { to: 'bob', box: box(MAX_SEALED_BYTES + 3) })
    expect(tooBig.status).toBe(400)
    const huge = await post(url, '/v1/mailbox/deposit', { to: 'bob', box: 'A'.repeat(200_000) })
    expect(huge.status).toBe(413)
  })

  it('takes the largest sealed item, though it is over the 16 KiB cap of other bodies', async () => {
    const sealed = seal({ kind: 'message', from: 'carol', id: 'big-message', at: clock, text: 'x'.repeat(64 * 1024) }, carol.identity, {
      userId: 'bob',
      publicKey: bob.publicKey,
    })
    const res = await post(url, '/v1/mailbox/deposit', { to: 'bob', box: sealed.toString('base64') })
    expect(res.status).toBe(201)
    expect((await post(url, '/v1/mailbox/delete', deleteBody(bob, [res.json.id]))).json).toEqual({ deleted: 1 })
  })

  it('refuses a deposit into a full mailbox with mailbox_full, and takes them again once emptied', async () => {
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await post(url, '/v1/mailbox/deposit', { to: 'bob', box: box(1072) })).json.id)
    const full = await post(url, '/v1/mailbox/deposit', { to: 'bob', box: box(1072) })
    expect(full.status).toBe(507)
    expect(full.json.error.code).toBe('mailbox_full')
    // Other mailboxes are not affected.
    expect((await post(url, '/v1/mailbox/deposit', { to: 'carol', box: box(1072) })).status).toBe(201)
    expect((await post(url, '/v1/mailbox/delete', deleteBody(bob, ids.slice(0, 1)))).json).toEqual({ deleted: 1 })
    expect((await post(url, '/v1/mailbox/deposit', { to: 'bob', box: box(1072) })).status).toBe(201)
    expect((await post(url, '/v1/mailbox/deposit', { to: 'bob', box: box(1072) })).json.error.code).toBe('mailbox_full')
  })

  it('caps a mailbox in bytes as well as in items', async () => {
    const dave = makeUser('dave')
    expect((await post(url, '/v1/register', registerBody(dave))).status).toBe(200)
    for (let i = 0; i < 4; i++)
      expect((await post(url, '/v1/mailbox/deposit', { to: 'dave', box: box(MAX_SEALED_BYTES) })).status).toBe(201)
    expect((await post(url, '/v1/mailbox/deposit', { to: 'dave', box: box(100) })).json.error.code).toBe('mailbox_full')
  })

  it('forgets items after 7 days, and they no longer count against the quota', async () => {
    expect((await fetchAll(url, bob)).items.length).toBe(5)
    clock += 7 * 86_400_000 + 1
    expect((await fetchAll(url, bob)).items).toEqual([])
    expect((await post(url, '/v1/mailbox/deposit', { to: 'bob', box: box(1072) })).status).toBe(201)
    expect((await fetchAll(url, bob)).items.length).toBe(1)
  })
})

describe('mailbox server settings', () => {
  beforeAll(() => {
    clock = Date.now()
  })

  it('--no-mailbox: every mailbox route answers mailbox_disabled, and keys still answer', async () => {
    const server = await startTestServer('memory', { mailbox: false })
    try {
      const bob = makeUser('bob')
      await post(server.url, '/v1/register', registerBody(bob))
      const res = await post(server.url, '/v1/mailbox/deposit', { to: 'bob', box: box(10) })
      expect(res.status).toBe(404)
      expect(res.json.error.code).toBe('mailbox_disabled')
      expect((await post(server.url, '/v1/mailbox/fetch', fetchBody(bob))).json.error.code).toBe('mailbox_disabled')
      expect((await get(server.url, '/v1/keys/bob')).status).toBe(200)
    } finally {
      await server.close()
    }
  })

  it('limits deposits per source address', async () => {
    const server = await startTestServer('memory', { mailbox: { depositRate: 1, maxItems: 1000 } })
    try {
      const bob = makeUser('bob')
      await post(server.url, '/v1/register', registerBody(bob))
      const codes: number[] = []
      for (let i = 0; i < 15; i++) codes.push((await post(server.url, '/v1/mailbox/deposit', { to: 'bob', box: box(10) })).status)
      expect(codes.filter((c) => c === 201).length).toBeGreaterThanOrEqual(10)
      expect(codes).toContain(429)
    } finally {
      await server.close()
    }
  })

  it('SQLite: items survive a restart, and the file holds no plaintext', async () => {
    const dbPath = join(mkdtempSync(join(tmpdir(), 'p2p-mailbox-')), 'registry.db')
    const alice = makeUser('alice')
    const bob = makeUser('bob')
    const text = 'the secret plan is in the blue folder'
    let server = await startTestServer('sqlite', { dbPath })
    await post(server.url, '/v1/register', registerBody(bob))
    const sealed = seal({ kind: 'message', from: 'alice', id: 'persisted-1', at: Date.now(), text }, alice.identity, {
      userId: 'bob',
      publicKey: toHex(bob.identity.publicKey),
    })
    expect((await post(server.url, '/v1/mailbox/deposit', { to: 'bob', box: sealed.toString('base64') })).status).toBe(201)
    await server.close()
    for (const file of [dbPath, `${dbPath}-wal`]) {
      let bytes: Buffer
      try {
        bytes = readFileSync(file)
      } catch {
        continue
      }
      expect(bytes.includes(Buffer.from(text))).toBe(false)
      expect(bytes.includes(Buffer.from('alice'))).toBe(false)
    }
    server = await startTestServer('sqlite', { dbPath })
    try {
      const page = await fetchAll(server.url, bob)
      expect(page.items.map((i) => Buffer.from(i.box, 'base64'))).toEqual([sealed])
    } finally {
      await server.close()
    }
  })
})

describe('mailbox on Redis, several instances', () => {
  it('an item left at one instance is fetched and deleted at another', async () => {
    const redis = await startRedis()
    const [a, b] = [await startTestServer('memory', { redisUrl: redis.url }), await startTestServer('memory', { redisUrl: redis.url })]
    try {
      const erin = makeUser('erin')
      clock = Date.now()
      expect((await post(a.url, '/v1/register', registerBody(erin))).status).toBe(200)
      const left = await post(a.url, '/v1/mailbox/deposit', { to: 'erin', box: box(1072, 7) })
      expect(left.status).toBe(201)
      const items = (await fetchAll(b.url, erin)).items
      expect(items.map((i) => i.id)).toEqual([left.json.id])
      expect(Buffer.from(items[0]!.box, 'base64')).toEqual(Buffer.alloc(1072, 7))
      expect((await post(b.url, '/v1/mailbox/delete', deleteBody(erin, [left.json.id]))).json).toEqual({ deleted: 1 })
      expect((await fetchAll(a.url, erin)).items).toEqual([])
    } finally {
      await a.close()
      await b.close()
      await redis.dispose()
    }
  })
})
