/** One contract for every Registry backend (memory, SQLite, Redis), plus SQLite's persistence and Redis' own expiry. */
import { mkdtempSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../src/protocol/migrate.js'
import { MemoryRegistry } from '../../src/server/memory-registry.js'
import { connectRedis } from '../../src/server/redis-connection.js'
import { RedisRegistry, shardOf } from '../../src/server/redis-registry.js'
import type { KeepaliveInput, RegisterInput, Registry } from '../../src/server/registry.js'
import { REGISTRY_MIGRATIONS, SqliteRegistry } from '../../src/server/sqlite-registry.js'
import { eventually } from '../helpers/eventually.js'
import { type RedisProcess, startRedis } from '../helpers/redis.js'

const KEY_A = 'a'.repeat(64)
const KEY_B = 'b'.repeat(64)
// In the future: Redis' own expiry (PXAT, PEXPIREAT) runs on the real clock and would drop keys
// stamped in the past at once; the registries compare times with the caller's clock anyway.
const T0 = 4_102_444_800_000
const TTL = 30_000
const RESERVE = 86_400_000

function input(userId: string, publicKey: string, now: number, extra: Partial<RegisterInput> = {}): RegisterInput {
  return { userId, publicKey, host: '10.0.0.1', port: 7000, now, expiresAt: now + TTL, reservedUntil: now + RESERVE, ...extra }
}

let nonces = 0
/** A keep-alive whose proof held under `publicKey`, with a nonce of its own. */
function keepalive(registry: Registry, userId: string, now: number, extra: Partial<KeepaliveInput> = {}) {
  return registry.keepalive({
    userId,
    publicKey: KEY_A,
    nonce: `nonce-${++nonces}`,
    nonceExpiresAt: now + TTL,
    now,
    expiresAt: now + TTL,
    reservedUntil: now + RESERVE,
    ...extra,
  })
}

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'p2p-registry-')), 'nested', 'registry.db')

let redis: RedisProcess | undefined
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(() => redis?.dispose())

/** A fresh Redis registry on an empty database, with few shards so that listings cross them. */
async function redisRegistry(shards = 3): Promise<RedisRegistry> {
  redis!.cli('flushall')
  return new RedisRegistry(await connectRedis(redis!.url), { shards })
}

const backends: [string, () => Registry | Promise<Registry>][] = [
  ['memory', () => new MemoryRegistry()],
  ['sqlite', () => new SqliteRegistry(tempDb())],
  ['redis', () => redisRegistry()],
]

describe.each(backends)('%s registry', (name, create) => {
  let registry: Registry
  afterEach(() => registry?.close())

  it('binds on first registration and refuses another key while reserved', async () => {
    registry = await create()
    const peer = await registry.register(input('alice', KEY_A, T0))
    expect(peer).toEqual({ userId: 'alice', publicKey: KEY_A, host: '10.0.0.1', port: 7000, lastSeen: T0, expiresAt: T0 + TTL })
    expect(await registry.register(input('alice', KEY_B, T0 + 1))).toBe('taken')
    // Long after the lease, still within the reservation.
    expect(await registry.register(input('alice', KEY_B, T0 + RESERVE - 1))).toBe('taken')
    expect((await registry.binding('alice', T0 + 1))?.publicKey).toBe(KEY_A)
    expect((await registry.peer('alice', T0 + 1))?.publicKey).toBe(KEY_A)
  })

  it('one live lease per key and instance: a copy elsewhere is refused until the lease ends', async () => {
    registry = await create()
    expect(await registry.register(input('alice', KEY_A, T0, { instance: 'laptop-aaaa' }))).toMatchObject({ userId: 'alice' })
    // The same instance again (a restart after a crash) takes its own lease back at once.
    expect(await registry.register(input('alice', KEY_A, T0 + 1, { instance: 'laptop-aaaa' }))).toMatchObject({ userId: 'alice' })
    expect(await registry.register(input('alice', KEY_A, T0 + 2, { instance: 'copied-bbbb', port: 9 }))).toBe('elsewhere')
    // The copy can neither renew nor end the original's lease.
    expect(await keepalive(registry, 'alice', T0 + 3, { instance: 'copied-bbbb' })).toBe('gone')
    expect(await registry.unregister('alice', 'copied-bbbb')).toBe(false)
    expect((await registry.peer('alice', T0 + 4))?.port).toBe(7000)
    expect(await keepalive(registry, 'alice', T0 + 5, { instance: 'laptop-aaaa' })).toEqual({ expiresAt: T0 + 5 + TTL })
    // Once the original's lease has ended (or it unregistered), the copy may take over.
    expect(await registry.register(input('alice', KEY_A, T0 + 5 + TTL, { instance: 'copied-bbbb', port: 9 }))).toMatchObject({ port: 9 })
    expect(await registry.unregister('alice', 'copied-bbbb')).toBe(true)
    // A client that names no instance is taken at its word, as before instances existed.
    await registry.register(input('alice', KEY_A, T0 + 6 + TTL, { instance: 'laptop-aaaa' }))
    expect(await registry.register(input('alice', KEY_A, T0 + 7 + TTL))).toMatchObject({ userId: 'alice' })
  })

  it('lets another key bind once the reservation has lapsed', async () => {
    registry = await create()
    await registry.register(input('alice', KEY_A, T0))
    expect(await registry.binding('alice', T0 + RESERVE)).toBeUndefined()
    const taken = await registry.register(input('alice', KEY_B, T0 + RESERVE, { port: 9 }))
    expect(taken).toMatchObject({ publicKey: KEY_B, port: 9 })
    expect(await registry.register(input('alice', KEY_A, T0 + RESERVE + 1))).toBe('taken')
  })

  it('a keep-alive renews only a live lease of the key it names, once per nonce, and extends the reservation', async () => {
    registry = await create()
    await registry.register(input('bob', KEY_A, T0))
    const at = T0 + 10_000
    // A nonce's expiry comes with it (its signed ts plus the window), so a replay carries the same.
    const n1 = { nonce: 'n1', nonceExpiresAt: at + TTL }
    expect(await keepalive(registry, 'bob', at, n1)).toEqual({ expiresAt: at + TTL })
    expect((await registry.peer('bob', at + TTL - 1))?.lastSeen).toBe(at)
    // The same nonce again, at once or later: refused, and the lease is left as it was.
    expect(await keepalive(registry, 'bob', at + 1, { ...n1, expiresAt: at + 2 * TTL })).toBe('replayed')
    expect((await registry.peer('bob', at + 1))?.expiresAt).toBe(at + TTL)
    // A proof checked against a key the id is not bound to (a stale cache) claims nothing.
    expect(await keepalive(registry, 'bob', at + 2, { nonce: 'n2', publicKey: KEY_B })).toBe('mismatch')
    expect(await keepalive(registry, 'bob', at + 3, { nonce: 'n2' })).toEqual({ expiresAt: at + 3 + TTL })
    expect(await keepalive(registry, 'nobody', at)).toBe('mismatch')
    // Past the lease: bound still, but nothing to renew.
    expect(await keepalive(registry, 'bob', at + 3 + TTL)).toBe('gone')
    expect((await registry.binding('bob', T0 + RESERVE + 5_000))?.publicKey).toBe(KEY_A)
    // Past the reservation too: the binding is over.
    expect(await keepalive(registry, 'bob', at + 3 + RESERVE)).toBe('mismatch')
  })

  it('unregister ends the lease and keeps the binding', async () => {
    registry = await create()
    await registry.register(input('carol', KEY_A, T0))
    expect(await registry.unregister('carol')).toBe(true)
    expect(await registry.unregister('carol')).toBe(false)
    expect(await registry.peer('carol', T0 + 1)).toBeUndefined()
    expect(await registry.register(input('carol', KEY_B, T0 + 2))).toBe('taken')
  })

  it('claims each nonce once', async () => {
    registry = await create()
    expect(await registry.claimNonce('dave', 'sig1', T0)).toBe(true)
    expect(await registry.claimNonce('dave', 'sig1', T0)).toBe(false)
    expect(await registry.claimNonce('dave', 'sig2', T0)).toBe(true)
    expect(await registry.claimNonce('erin', 'sig1', T0)).toBe(true)
  })

  it('of claims made at once (one batch, or one round trip each), exactly one wins', async () => {
    registry = await create()
    const claims = await Promise.all(Array.from({ length: 8 }, () => registry.claimNonce('dave', 'same', T0)))
    expect(claims.filter(Boolean)).toHaveLength(1)
    const [first, again] = await Promise.all([registry.register(input('zed', KEY_A, T0)), registry.register(input('zed', KEY_B, T0))])
    expect(first).toMatchObject({ publicKey: KEY_A })
    expect(again).toBe('taken')
  })

  it('lists live peers in user id order, after a cursor, up to a limit', async () => {
    registry = await create()
    for (const id of ['d', 'b', 'e', 'a', 'c']) await registry.register(input(id, KEY_A, T0))
    await registry.register(input('old', KEY_A, T0 - TTL))
    const ids = async (limit: number, after?: string) => (await registry.onlinePeers(T0 + 1, limit, after)).map((p) => p.userId)
    expect(await ids(10)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(await ids(2)).toEqual(['a', 'b'])
    expect(await ids(2, 'b')).toEqual(['c', 'd'])
    expect(await ids(10, 'e')).toEqual([])
    expect(await registry.onlinePeers(T0 + TTL, 10)).toEqual([])
  })

  // Redis forgets on its own clock (PEXPIREAT, PXAT): see 'redis registry expiry' below.
  it.skipIf(name === 'redis')('sweeps expired leases, nonces and reservations only', async () => {
    registry = await create()
    await registry.register(input('gone', KEY_A, T0))
    await registry.register(input('here', KEY_A, T0 + RESERVE))
    await registry.claimNonce('gone', 'n', T0)
    await registry.sweep(T0 + RESERVE + 1)
    expect(await registry.peer('here', T0 + RESERVE + 1)).toBeDefined()
    expect(await registry.binding('gone', T0)).toBeUndefined()
    expect(await registry.claimNonce('gone', 'n', T0)).toBe(true)
    expect(await registry.register(input('gone', KEY_B, T0 + RESERVE + 2))).not.toBe('taken')
  })
})

describe('sqlite registry on disk', () => {
  it('keeps bindings across reopen; leases expire by time', async () => {
    const path = tempDb()
    const first = new SqliteRegistry(path)
    await first.register(input('alice', KEY_A, T0))
    await first.close()

    const second = new SqliteRegistry(path)
    expect((await second.peer('alice', T0 + 1))?.host).toBe('10.0.0.1')
    expect(await second.peer('alice', T0 + TTL)).toBeUndefined()
    expect(await second.register(input('alice', KEY_B, T0 + TTL))).toBe('taken')
    await second.close()
  })

  it('refuses a keep-alive replayed after a reopen, within its window', async () => {
    const path = tempDb()
    const first = new SqliteRegistry(path)
    await first.register(input('alice', KEY_A, T0))
    const once = { nonce: 'f'.repeat(64), nonceExpiresAt: T0 + TTL }
    expect(await keepalive(first, 'alice', T0 + 1, once)).toEqual({ expiresAt: T0 + 1 + TTL })
    await first.close()
    const second = new SqliteRegistry(path)
    expect(await keepalive(second, 'alice', T0 + 2, once)).toBe('replayed')
    expect(await second.claimNonce('alice', once.nonce, once.nonceExpiresAt)).toBe(false)
    await second.close()
  })

  it('carries the replay records of a version 2 database into version 3', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'p2p-registry-')), 'registry.db')
    const v2 = new Database(path)
    migrate(v2, REGISTRY_MIGRATIONS.slice(0, 2), 'v2')
    v2.prepare('INSERT INTO nonces (user_id, sig, expires_at) VALUES (?, ?, ?)').run('alice', 'e'.repeat(128), T0)
    v2.close()
    const registry = new SqliteRegistry(path)
    expect(await registry.claimNonce('alice', 'e'.repeat(128), T0)).toBe(false)
    expect(await registry.claimNonce('alice', 'd'.repeat(128), T0)).toBe(true)
    await registry.close()
  })

  it('records its schema version and uses WAL', async () => {
    const path = tempDb()
    await new SqliteRegistry(path).close()
    const db = new Database(path, { readonly: true })
    expect(db.pragma('user_version', { simple: true })).toBe(3)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    db.close()
    // Reopening runs no migration twice.
    await new SqliteRegistry(path).close()
  })

  it('keeps its lease secret beside the database (0600), the same after a reopen', async () => {
    const path = tempDb()
    const first = new SqliteRegistry(path)
    const secret = await first.leaseSecret()
    expect(secret).toHaveLength(32)
    await first.close()
    const second = new SqliteRegistry(path)
    expect(await second.leaseSecret()).toEqual(secret)
    await second.close()
    expect(statSync(`${path}.lease-secret`).mode & 0o777).toBe(0o600)
  })

  it('refuses a database from a newer server', async () => {
    const path = tempDb()
    await new SqliteRegistry(path).close()
    const db = new Database(path)
    db.pragma('user_version = 99')
    db.close()
    expect(() => new SqliteRegistry(path)).toThrow(/newer/)
  })
})

describe('redis registry expiry and listing', () => {
  let registry: RedisRegistry
  afterEach(() => registry?.close())

  it('Redis forgets lapsed users and stale nonces by itself, and a sweep drops expired index entries', async () => {
    registry = await redisRegistry()
    const now = Date.now()
    await registry.register({ userId: 'brief', publicKey: KEY_A, host: 'h', port: 1, now, expiresAt: now + 300, reservedUntil: now + 600 })
    expect(await registry.claimNonce('brief', 'f'.repeat(128), now + 300)).toBe(true)
    expect(await registry.claimNonce('brief', 'f'.repeat(128), now + 300)).toBe(false)
    expect(redis!.cli('zcard', `p2p:{on${shardFor('brief')}}:ids`)).toBe('1')
    await eventually(async () => (await registry.claimNonce('brief', 'f'.repeat(128), Date.now() + 60_000)) === true, { timeout: 10_000 })
    await eventually(() => redis!.cli('exists', 'p2p:u:{brief}') === '0', { timeout: 10_000 })
    await registry.sweep(Date.now())
    expect(redis!.cli('zcard', `p2p:{on${shardFor('brief')}}:ids`)).toBe('0')
    expect(
      await registry.register({
        userId: 'brief',
        publicKey: KEY_B,
        host: 'h',
        port: 2,
        now: Date.now(),
        expiresAt: Date.now() + 30_000,
        reservedUntil: Date.now() + 60_000,
      }),
    ).toMatchObject({ publicKey: KEY_B })
  })

  it('a sweep keeps the index entry of a lease renewed since it was indexed', async () => {
    registry = await redisRegistry()
    await registry.register(input('kept', KEY_A, T0))
    await registry.register(input('lapsed', KEY_A, T0))
    expect(await keepalive(registry, 'kept', T0 + TTL - 1, { expiresAt: T0 + 2 * TTL })).toEqual({ expiresAt: T0 + 2 * TTL })
    await registry.sweep(T0 + TTL + 1)
    expect((await registry.onlinePeers(T0 + TTL + 1, 10)).map((p) => p.userId)).toEqual(['kept'])
    expect(redis!.cli('zscore', `p2p:{on${shardFor('kept')}}:exp`, 'kept')).toBe(String(T0 + 2 * TTL))
    expect(redis!.cli('zscore', `p2p:{on${shardFor('lapsed')}}:exp`, 'lapsed')).toBe('')
  })

  it('pages over many users spread over the shards, each once, in order, skipping expired leases', async () => {
    registry = await redisRegistry(7)
    const ids = Array.from({ length: 250 }, (_, i) => `user${String(i).padStart(3, '0')}`)
    for (const id of ids) await registry.register(input(id, KEY_A, T0))
    // Every fifth lease expired (registered long ago): never listed, never counted against a page.
    for (const id of ids.filter((_, i) => i % 5 === 0)) await registry.register(input(id, KEY_A, T0 - TTL))
    const live = ids.filter((_, i) => i % 5 !== 0)
    const seen: string[] = []
    let after: string | undefined
    for (;;) {
      const page = await registry.onlinePeers(T0 + 1, 33, after)
      seen.push(...page.map((p) => p.userId))
      if (page.length < 33) break
      after = page.at(-1)!.userId
    }
    expect(seen).toEqual(live)
  })
})

function shardFor(userId: string): number {
  return shardOf(userId, 3)
}
