/**
 * The `--redis` mailbox: every instance sees every item, so a recipient may fetch from any
 * instance what a sender left at another.
 *
 * Keys of one recipient share a hash tag, so each mailbox sits in one Redis Cluster slot and
 * deposit-within-quota and delete are each one Lua script:
 *   p2p:mb:{USER}:seq    the last item id given out (ids increase per mailbox: its order)
 *   p2p:mb:{USER}:ids    sorted set: item ids, scored by id (list pages by it)
 *   p2p:mb:{USER}:exp    sorted set: item ids, scored by expiry (deposits drop the expired)
 *   p2p:mb:{USER}:box    hash: id -> the sealed bytes
 *   p2p:mb:{USER}:meta   hash: id -> "depositedAt:expiresAt", and `bytes` (the mailbox's total)
 * Each deposit moves the keys' PEXPIREAT to the latest item's expiry, so Redis forgets a mailbox
 * nobody fetched by itself; a sweep has nothing left to do. Expiry is compared with the caller's
 * clock (`now`), as in the registry.
 */
import type { Redis } from 'ioredis'
import { callRedis } from '../redis-connection.js'
import type { MailboxItem, MailboxQuota, MailboxStore } from './store.js'

const keysOf = (recipient: string) => {
  const base = `p2p:mb:{${recipient}}`
  return [`${base}:seq`, `${base}:ids`, `${base}:exp`, `${base}:box`, `${base}:meta`]
}

/** Lua: removes item `id` of the mailbox (KEYS seq ids exp box meta); false when it is not there. */
const REMOVE_ITEM = `
local function remove(id)
  if redis.call('HEXISTS', KEYS[4], id) == 0 then return false end
  local size = redis.call('HSTRLEN', KEYS[4], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('HDEL', KEYS[5], id)
  redis.call('HINCRBY', KEYS[5], 'bytes', -size)
  return true
end
`

/** Lua: drops the mailbox's items expired at ARGV[1]. */
const DROP_EXPIRED = `${REMOVE_ITEM}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])) do remove(id) end
`

/** KEYS seq ids exp box meta; ARGV now expiresAt maxItems maxBytes box. Returns the new id, or 'full'. */
const DEPOSIT = `${DROP_EXPIRED}
local count = redis.call('ZCARD', KEYS[2])
local bytes = tonumber(redis.call('HGET', KEYS[5], 'bytes') or '0')
local size = string.len(ARGV[5])
if count + 1 > tonumber(ARGV[3]) or bytes + size > tonumber(ARGV[4]) then return 'full' end
local id = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], id, id)
redis.call('ZADD', KEYS[3], ARGV[2], id)
redis.call('HSET', KEYS[4], id, ARGV[5])
redis.call('HSET', KEYS[5], id, ARGV[1] .. ':' .. ARGV[2])
redis.call('HINCRBY', KEYS[5], 'bytes', size)
local keep = tonumber(redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')[2])
for i = 1, 5 do redis.call('PEXPIREAT', KEYS[i], keep) end
return tostring(id)
`

/** KEYS seq ids exp box meta; ARGV the ids. Returns how many went. */
const DELETE = `${REMOVE_ITEM}
local deleted = 0
for _, id in ipairs(ARGV) do
  if remove(id) then deleted = deleted + 1 end
end
return deleted
`

type MailboxCommands = {
  p2pMailboxDropExpired(...args: Array<string | number>): Promise<unknown>
  p2pMailboxDeposit(...args: Array<string | number | Buffer>): Promise<string>
  p2pMailboxDelete(...args: string[]): Promise<number>
}

export class RedisMailboxStore implements MailboxStore {
  readonly #redis: Redis & MailboxCommands

  constructor(redis: Redis) {
    redis.defineCommand('p2pMailboxDeposit', { numberOfKeys: 5, lua: DEPOSIT })
    redis.defineCommand('p2pMailboxDelete', { numberOfKeys: 5, lua: DELETE })
    redis.defineCommand('p2pMailboxDropExpired', { numberOfKeys: 5, lua: DROP_EXPIRED })
    this.#redis = redis as Redis & MailboxCommands
  }

  deposit(recipient: string, box: Buffer, now: number, expiresAt: number, quota: MailboxQuota): Promise<MailboxItem | 'full'> {
    return callRedis(async () => {
      const id = await this.#redis.p2pMailboxDeposit(...keysOf(recipient), now, expiresAt, quota.maxItems, quota.maxBytes, box)
      return id === 'full' ? 'full' : { id, box, depositedAt: now, expiresAt }
    })
  }

  list(recipient: string, now: number, limit: number, after?: string): Promise<MailboxItem[]> {
    return callRedis(async () => {
      const [, idsKey, , boxKey, metaKey] = keysOf(recipient) as [string, string, string, string, string]
      const from = after === undefined ? '-inf' : `(${Number(after)}`
      // Dropped first, so that a page of `limit` live items is one range read.
      await this.#redis.p2pMailboxDropExpired(...keysOf(recipient), now)
      const ids = await this.#redis.zrangebyscore(idsKey, from, '+inf', 'LIMIT', 0, limit)
      if (ids.length === 0) return []
      const [boxes, metas] = await Promise.all([this.#redis.hmgetBuffer(boxKey, ...ids), this.#redis.hmget(metaKey, ...ids)])
      const items: MailboxItem[] = []
      ids.forEach((id, i) => {
        const box = boxes[i]
        const [depositedAt, expiresAt] = (metas[i] ?? '').split(':').map(Number)
        if (box && expiresAt !== undefined && expiresAt > now) {
          items.push({ id, box, depositedAt: depositedAt ?? 0, expiresAt })
        }
      })
      return items
    })
  }

  delete(recipient: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return Promise.resolve(0)
    return callRedis(() => this.#redis.p2pMailboxDelete(...keysOf(recipient), ...ids))
  }

  /** Nothing to do: deposits drop a mailbox's expired items, and Redis forgets a mailbox left alone. */
  async sweep(): Promise<void> {}

  /** The connection belongs to the registry, which closes it. */
  async close(): Promise<void> {}
}
