/**
 * Token-bucket arithmetic, pure, shared by the discovery server (requests per address) and the
 * daemon (messages per peer link).
 */

export interface RateLimitConfig {
  /** Tokens added per second: the sustained request rate. */
  perSecond: number
  /** Bucket size: how many requests may arrive at once. */
  burst: number
}

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

/** Pure: ms until `bucket` holds one whole token again (0 when it does now). */
export function msUntilToken(bucket: Bucket, config: RateLimitConfig): number {
  return bucket.tokens >= 1 ? 0 : Math.ceil(((1 - bucket.tokens) / config.perSecond) * 1000)
}

/**
 * Pure: refill `bucket` up to `now`, then take `amount` tokens even when fewer are there (a byte
 * stream cannot give back what it already read). Returns how long to wait (ms) before taking
 * more: 0 while the bucket holds tokens, else until the debt is paid back.
 */
export function takeTokens(
  bucket: Bucket | undefined,
  now: number,
  config: RateLimitConfig,
  amount: number,
): { waitMs: number; bucket: Bucket } {
  const elapsed = bucket ? Math.max(0, now - bucket.at) / 1000 : 0
  const tokens = (bucket ? Math.min(config.burst, bucket.tokens + elapsed * config.perSecond) : config.burst) - amount
  return { waitMs: tokens >= 0 ? 0 : Math.ceil((-tokens / config.perSecond) * 1000), bucket: { tokens, at: now } }
}
