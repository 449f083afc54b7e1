/**
 * The `--redis` registry: several `p2p server` instances share one namespace through one Redis.
 *
 * Keys (hash tags in braces, so each group sits in one Redis Cluster slot):
 *   p2p:u:{USER}         hash: the binding (pk, ru) and the lease (h, p, ls, ex, in) of one user,
 *                        PEXPIREAT max(reservation, lease): Redis forgets a lapsed user by itself
 *   p2p:n:{USER}:SIG     a replay nonce, SET NX PXAT: one key per signature, gone when stale
 *   p2p:{onK}:ids        online index shard K (of SHARDS): user ids, all at score 0 (ordered by id)
 *   p2p:{onK}:exp        the same ids scored by lease expiry as last seen by a registration or a
 *                        sweep: a hint that finds the expired ones (renewals leave it alone)
 *   p2p:presence         a counter bumped whenever who is online (or where) changes
 *   p2p:lease-secret     the namespace's secret for lease proofs, made by the first instance (SET NX)
 *
 * A user's keys share the user's slot, so bind-or-refuse, a keep-alive (nonce claim and renewal)
 * and unregister are each one Lua script. The index shards live in their own slots: they are updated right after the
 * script, in the same round trip, and never trusted alone: a listing reads every candidate's hash
 * and shows only live leases. Nothing here depends on keyspace notifications.
 *
 * Expiry times are compared with the caller's clock (`now`) everywhere; Redis' own expiry only
 * reclaims memory, on Redis' clock.
 */
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { callRedis } from './redis-connection.js'
import type { Binding, KeepaliveInput, KeepaliveOutcome, Peer, RegisterInput, Registry } from './registry.js'

/** Index shards: enough that no one key holds everyone, few enough that a page reads all of them in one round trip. */
export const DEFAULT_SHARDS = 16

/** Pure: the index shard of a user id (FNV-1a, so every instance agrees). */
export function shardOf(userId: string, shards: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < userId.length; i++) {
    h ^= userId.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % shards
}

const userKey = (userId: string) => `p2p:u:{${userId}}`
// 128 bits of the signature name it well enough: a replay carries the very same signature.
const nonceKey = (userId: string, sig: string) => `p2p:n:{${userId}}:${sig.slice(0, 32)}`
const idsKey = (shard: number) => `p2p:{on${shard}}:ids`
const expKey = (shard: number) => `p2p:{on${shard}}:exp`
const PRESENCE_KEY = 'p2p:presence'
const LEASE_SECRET_KEY = 'p2p:lease-secret'

/**
 * Bind-or-refuse and open the lease, atomically. KEYS[1] the user hash; ARGV publicKey, host,
 * port, instance ('' for none), now, expiresAt, reservedUntil. Returns 'taken', 'elsewhere',
 * 'same' (a live lease renewed at the same address) or 'changed'.
 */
const REGISTER = `
local v = redis.call('HMGET', KEYS[1], 'pk', 'ru', 'ex', 'in', 'h', 'p')
local now = tonumber(ARGV[5])
if v[1] and tonumber(v[2]) > now and v[1] ~= ARGV[1] then return 'taken' end
local live = v[3] and tonumber(v[3]) > now
if live and v[4] and v[4] ~= '' and ARGV[4] ~= '' and v[4] ~= ARGV[4] then return 'elsewhere' end
redis.call('HSET', KEYS[1], 'pk', ARGV[1], 'ru', ARGV[7], 'h', ARGV[2], 'p', ARGV[3], 'ls', ARGV[5], 'ex', ARGV[6], 'in', ARGV[4])
redis.call('PEXPIREAT', KEYS[1], math.max(tonumber(ARGV[6]), tonumber(ARGV[7])))
if live and v[1] == ARGV[1] and v[5] == ARGV[2] and v[6] == ARGV[3] then return 'same' end
return 'changed'
`

/**
 * A whole keep-alive in one round trip. KEYS[1] the user hash, KEYS[2] the nonce key (both in the
 * user's slot); ARGV publicKey, nonce expiry, now, expiresAt, reservedUntil, instance. Refuses
 * 'mismatch' unless the user id is bound to that key now (the instance checked the proof against a
 * key it cached), 'replayed' for a nonce seen before, 'gone' unless a lease held by the instance (or
 * by anyone when either side names none) is live; else renews lease and reservation and returns
 * the new expiry.
 */
const KEEPALIVE = `
local v = redis.call('HMGET', KEYS[1], 'pk', 'ru', 'ex', 'in')
local now = tonumber(ARGV[3])
if not v[1] or not v[2] or tonumber(v[2]) <= now or v[1] ~= ARGV[1] then return 'mismatch' end
if not redis.call('SET', KEYS[2], '1', 'PXAT', ARGV[2], 'NX') then return 'replayed' end
if not v[3] or tonumber(v[3]) <= now then return 'gone' end
if v[4] and v[4] ~= '' and ARGV[6] ~= '' and v[4] ~= ARGV[6] then return 'gone' end
local ru = math.max(tonumber(v[2]), tonumber(ARGV[5]))
redis.call('HSET', KEYS[1], 'ls', ARGV[3], 'ex', ARGV[4], 'ru', ru)
redis.call('PEXPIREAT', KEYS[1], math.max(ru, tonumber(ARGV[4])))
return ARGV[4]
`

/** End the lease held by ARGV[1] (same holder rule), keep the binding. Returns 1 when a lease was removed. */
const UNREGISTER = `
local v = redis.call('HMGET', KEYS[1], 'ex', 'in')
if not v[1] then return 0 end
if v[2] and v[2] ~= '' and ARGV[1] ~= '' and v[2] ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'h', 'p', 'ls', 'ex', 'in')
return 1
`

/**
 * Index entries scored as expired by ARGV[1], at most ARGV[2] of them: candidates for the sweep,
 * which reads each one's lease (another slot) before dropping it or moving its score.
 */
const EXPIRED_CANDIDATES = `return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))`

/**
 * ARGV pairs of (user id, lease expiry or 0 when gone), as the sweep read them: an entry whose
 * lease is gone or over by ARGV[1] leaves both sets, a renewed one gets its real expiry. A lease
 * registered again since the read has a score in the future and is left alone (a registration
 * writes its entries after its own script, so one that comes later re-adds them).
 */
const SETTLE_SHARD = `
local now = tonumber(ARGV[1])
local gone = 0
for i = 2, #ARGV, 2 do
  local ex = tonumber(ARGV[i + 1])
  local score = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[i]) or '0')
  if score > now then
    -- registered again since the sweep read it: its own entry is current
  elseif ex <= now then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('ZREM', KEYS[2], ARGV[i])
    gone = gone + 1
  else
    redis.call('ZADD', KEYS[2], 'XX', ex, ARGV[i])
  end
end
return gone
`

const PEER_FIELDS = ['pk', 'h', 'p', 'ls', 'ex'] as const

/** Pure: a live peer from the HMGET of PEER_FIELDS, or undefined. */
function toPeer(userId: string, v: (string | null)[], now: number): Peer | undefined {
  const [pk, host, port, lastSeen, expiresAt] = v
  if (!pk || !host || !port || !lastSeen || !expiresAt || Number(expiresAt) <= now) return undefined
  return { userId, publicKey: pk, host, port: Number(port), lastSeen: Number(lastSeen), expiresAt: Number(expiresAt) }
}

interface Scripts {
  p2pRegister(key: string, ...args: (string | number)[]): Promise<string>
  p2pKeepalive(user: string, nonce: string, ...args: (string | number)[]): Promise<string>
  p2pUnregister(key: string, instance: string): Promise<number>
  p2pExpiredCandidates(exp: string, now: number, max: number): Promise<string[]>
  p2pSettleShard(ids: string, exp: string, now: number, ...pairs: (string | number)[]): Promise<number>
}

export class RedisRegistry implements Registry {
  readonly #redis: Redis
  readonly #scripts: Scripts
  readonly #shards: number

  /** Takes ownership of `redis` (closed by close()). */
  constructor(redis: Redis, options: { shards?: number } = {}) {
    this.#redis = redis
    this.#shards = options.shards ?? DEFAULT_SHARDS
    // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT, so a restarted Redis just works.
    redis.defineCommand('p2pRegister', { numberOfKeys: 1, lua: REGISTER })
    redis.defineCommand('p2pKeepalive', { numberOfKeys: 2, lua: KEEPALIVE })
    redis.defineCommand('p2pUnregister', { numberOfKeys: 1, lua: UNREGISTER })
    redis.defineCommand('p2pExpiredCandidates', { numberOfKeys: 1, lua: EXPIRED_CANDIDATES })
    redis.defineCommand('p2pSettleShard', { numberOfKeys: 2, lua: SETTLE_SHARD })
    this.#scripts = redis as unknown as Scripts
  }

  /** Redis answers a PING within `timeoutMs`. */
  async healthy(timeoutMs = 1000): Promise<boolean> {
    if (this.#redis.status !== 'ready') return false
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs)
    })
    try {
      return await Promise.race([this.#redis.ping().then((r) => r === 'PONG'), late])
    } catch {
      return false
    } finally {
      clearTimeout(timer)
    }
  }

  /** Changes whenever someone comes online, moves or leaves: a cache of listings compares it. */
  async presenceVersion(): Promise<string> {
    return callRedis(async () => (await this.#redis.get(PRESENCE_KEY)) ?? '0')
  }

  async leaseSecret(): Promise<Buffer> {
    return callRedis(async () => {
      await this.#redis.set(LEASE_SECRET_KEY, randomBytes(32).toString('hex'), 'NX')
      const hex = await this.#redis.get(LEASE_SECRET_KEY)
      if (hex?.length !== 64) throw new Error(`${LEASE_SECRET_KEY} is not a 32-byte hex secret`)
      return Buffer.from(hex, 'hex')
    })
  }

  async register(input: RegisterInput): Promise<Peer | 'taken' | 'elsewhere'> {
    return callRedis(async () => {
      const result = await this.#scripts.p2pRegister(
        userKey(input.userId),
        input.publicKey,
        input.host,
        input.port,
        input.instance ?? '',
        input.now,
        input.expiresAt,
        input.reservedUntil,
      )
      if (result === 'taken' || result === 'elsewhere') return result
      await this.#index(input.userId, input.expiresAt, result === 'changed')
      const { userId, publicKey, host, port, now, expiresAt } = input
      return { userId, publicKey, host, port, lastSeen: now, expiresAt }
    })
  }

  async binding(userId: string, now: number): Promise<Binding | undefined> {
    return callRedis(async () => {
      const [pk, ru] = await this.#redis.hmget(userKey(userId), 'pk', 'ru')
      return pk && ru && Number(ru) > now ? { userId, publicKey: pk, reservedUntil: Number(ru) } : undefined
    })
  }

  async keepalive(input: KeepaliveInput): Promise<KeepaliveOutcome> {
    return callRedis(async () => {
      // The index is not touched: its expiry scores are only a hint for the sweep, which reads the
      // lease before dropping an entry.
      const result = await this.#scripts.p2pKeepalive(
        userKey(input.userId),
        nonceKey(input.userId, input.nonce),
        input.publicKey,
        input.nonceExpiresAt,
        input.now,
        input.expiresAt,
        input.reservedUntil,
        input.instance ?? '',
      )
      return result === 'mismatch' || result === 'replayed' || result === 'gone' ? result : { expiresAt: Number(result) }
    })
  }

  async unregister(userId: string, instance?: string): Promise<boolean> {
    return callRedis(async () => {
      if ((await this.#scripts.p2pUnregister(userKey(userId), instance ?? '')) !== 1) return false
      const shard = shardOf(userId, this.#shards)
      await this.#redis.multi().zrem(idsKey(shard), userId).zrem(expKey(shard), userId).incr(PRESENCE_KEY).exec()
      return true
    })
  }

  async claimNonce(userId: string, sig: string, expiresAt: number): Promise<boolean> {
    return callRedis(async () => (await this.#redis.set(nonceKey(userId, sig), '1', 'PXAT', expiresAt, 'NX')) === 'OK')
  }

  async peer(userId: string, now: number): Promise<Peer | undefined> {
    return callRedis(async () => toPeer(userId, await this.#redis.hmget(userKey(userId), ...PEER_FIELDS), now))
  }

  async onlinePeers(now: number, limit: number, after = ''): Promise<Peer[]> {
    return callRedis(async () => {
      const peers: Peer[] = []
      let cursor = after
      while (peers.length < limit) {
        const want = limit - peers.length
        const candidates = await this.#nextIds(cursor, want)
        if (candidates.length === 0) break
        const pipe = this.#redis.pipeline()
        for (const id of candidates) pipe.hmget(userKey(id), ...PEER_FIELDS)
        const rows = (await pipe.exec()) ?? []
        candidates.forEach((id, i) => {
          const [err, value] = rows[i] ?? [null, null]
          if (err) throw err
          const peer = toPeer(id, value as (string | null)[], now)
          if (peer) peers.push(peer)
        })
        // Fewer candidates than asked for: every shard is exhausted past the cursor.
        if (candidates.length < want) break
        cursor = candidates.at(-1)!
      }
      return peers
    })
  }

  async sweep(now: number): Promise<void> {
    await callRedis(async () => {
      let removed = 0
      for (let shard = 0; shard < this.#shards; shard++) {
        const candidates = await this.#scripts.p2pExpiredCandidates(expKey(shard), now, 1000)
        if (candidates.length === 0) continue
        const pipe = this.#redis.pipeline()
        for (const id of candidates) pipe.hget(userKey(id), 'ex')
        const rows = (await pipe.exec()) ?? []
        const pairs = candidates.flatMap((id, i) => [id, Number(rows[i]?.[1] ?? 0) || 0])
        removed += await this.#scripts.p2pSettleShard(idsKey(shard), expKey(shard), now, ...pairs)
      }
      if (removed > 0) await this.#redis.incr(PRESENCE_KEY)
    })
  }

  async close(): Promise<void> {
    try {
      await this.#redis.quit()
    } catch {
      this.#redis.disconnect()
    }
  }

  /** The first `want` ids after `cursor` across all shards: each shard's first `want`, merged in order. */
  async #nextIds(cursor: string, want: number): Promise<string[]> {
    const pipe = this.#redis.pipeline()
    const min = cursor === '' ? '-' : `(${cursor}`
    for (let shard = 0; shard < this.#shards; shard++) pipe.zrangebylex(idsKey(shard), min, '+', 'LIMIT', 0, want)
    const merged: string[] = []
    for (const [err, ids] of (await pipe.exec()) ?? []) {
      if (err) throw err
      merged.push(...(ids as string[]))
    }
    // User ids are ASCII, so JavaScript's order is Redis' byte order.
    return merged.sort().slice(0, want)
  }

  async #index(userId: string, expiresAt: number, changed: boolean): Promise<void> {
    // Written after every registration, so an entry a sweep dropped at the wrong moment comes back.
    const shard = shardOf(userId, this.#shards)
    const tx = this.#redis.pipeline().zadd(idsKey(shard), 0, userId).zadd(expKey(shard), expiresAt, userId)
    if (changed) tx.incr(PRESENCE_KEY)
    const results = (await tx.exec()) ?? []
    for (const [err] of results) if (err) throw err
  }
}
