/**
 * Token buckets per remote address. The bucket arithmetic is a pure function; the limiter only
 * keeps one small record per address and forgets addresses whose bucket has refilled, so memory
 * stays bounded by the number of recently active clients.
 */

export interface RateLimitConfig {
  /** Tokens added per second: the sustained request rate. */
  perSecond: number
  /** Bucket size: how many requests may arrive at once. */
  burst: number
}

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { perSecond: 50, burst: 100 }

export interface Bucket {
  tokens: number
  /** When `tokens` was last computed (ms). */
  at: number
}

/** Pure: refill `bucket` up to `now`, then try to take one token. A missing bucket is a full one. */
export function takeToken(bucket: Bucket | undefined, now: number, config: RateLimitConfig): { allowed: boolean; bucket: Bucket } {
  const elapsed = bucket ? Math.max(0, now - bucket.at) / 1000 : 0
  const tokens = bucket ? Math.min(config.burst, bucket.tokens + elapsed * config.perSecond) : config.burst
  return tokens >= 1 ? { allowed: true, bucket: { tokens: tokens - 1, at: now } } : { allowed: false, bucket: { tokens, at: now } }
}

/** Pure: true once a bucket has refilled completely, so forgetting it changes nothing. */
export function isFull(bucket: Bucket, now: number, config: RateLimitConfig): boolean {
  return bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * config.perSecond >= config.burst
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>()
  readonly #config: RateLimitConfig

  constructor(config: RateLimitConfig) {
    if (!(config.perSecond > 0) || !(config.burst >= 1)) throw new Error('rate limit needs perSecond > 0 and burst >= 1')
    this.#config = config
  }

  /** True when `key` may make one more request now. */
  allow(key: string, now: number): boolean {
    const { allowed, bucket } = takeToken(this.#buckets.get(key), now, this.#config)
    this.#buckets.set(key, bucket)
    return allowed
  }

  /** Drops full buckets; call it now and then. */
  prune(now: number): void {
    for (const [key, bucket] of this.#buckets) if (isFull(bucket, now, this.#config)) this.#buckets.delete(key)
  }

  get size(): number {
    return this.#buckets.size
  }
}
