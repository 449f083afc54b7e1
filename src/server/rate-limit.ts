/**
 * Token buckets per remote address. The bucket arithmetic is a pure function; the limiter only
 * keeps one small record per address and forgets addresses whose bucket has refilled, so memory
 * stays bounded by the number of recently active clients.
 */

import { DEFAULT_RATE_LIMIT_PER_SECOND } from '../protocol/defaults.js'
import { type Bucket, isFull, type RateLimitConfig, takeToken } from '../protocol/token-bucket.js'

export type { RateLimitConfig }

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { perSecond: DEFAULT_RATE_LIMIT_PER_SECOND, burst: DEFAULT_RATE_LIMIT_PER_SECOND * 2 }

/** What the app asks of a limiter: in this process (RateLimiter) or shared through Redis. */
export interface AddressLimiter {
  allow(key: string, now: number): boolean | Promise<boolean>
  /** Forgets idle state; a shared limiter lets its store expire it instead. */
  prune?(now: number): void
}

export class RateLimiter implements AddressLimiter {
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
