/**
 * The per-address rate limit shared by every instance on one Redis: the same token bucket as
 * rate-limit.ts (one hash per address, refilled and taken in one Lua script), so a client spread
 * over N instances by a load balancer still gets one budget, not N.
 */
import type { Redis } from 'ioredis'
import type { AddressLimiter, RateLimitConfig } from './rate-limit.js'

// ARGV perSecond, burst, now (ms). A missing bucket is a full one; the key lives as long as a refill takes.
const TAKE_TOKEN = `
local v = redis.call('HMGET', KEYS[1], 't', 'a')
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens = burst
if v[1] then tokens = math.min(burst, tonumber(v[1]) + math.max(0, now - tonumber(v[2])) / 1000 * rate) end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'a', ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return allowed
`

interface Scripts {
  p2pTakeToken(key: string, perSecond: number, burst: number, now: number): Promise<number>
}

export class RedisRateLimiter implements AddressLimiter {
  readonly #scripts: Scripts
  readonly #config: RateLimitConfig

  /** Shares `redis` with the registry; does not close it. */
  constructor(redis: Redis, config: RateLimitConfig) {
    if (!(config.perSecond > 0) || !(config.burst >= 1)) throw new Error('rate limit needs perSecond > 0 and burst >= 1')
    redis.defineCommand('p2pTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN })
    this.#scripts = redis as unknown as Scripts
    this.#config = config
  }

  async allow(key: string, now: number): Promise<boolean> {
    try {
      return (await this.#scripts.p2pTakeToken(`p2p:rl:{${key}}`, this.#config.perSecond, this.#config.burst, now)) === 1
    } catch {
      // Redis out of reach: the request fails on the registry anyway (503); do not turn it into a 429.
      return true
    }
  }
}
