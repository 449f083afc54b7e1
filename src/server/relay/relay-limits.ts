/**
 * The relay's limits (SPEC section 9) and the pure decisions made from them. Each limit has its
 * own error code, so a daemon (and a person reading its log) can tell which one it hit.
 */
import { ErrorCode } from '../../protocol/errors.js'
import { type Bucket, isFull, type RateLimitConfig, takeTokens } from '../../protocol/token-bucket.js'

export interface RelayLimits {
  /** How long the first end of a circuit waits for the other. */
  pairingTimeoutMs: number
  /** Circuits (pairing or spliced) a key may be an end of at once. */
  maxCircuitsPerKey: number
  /** Bytes a key may send through the relay per second, over all its circuits; null = unlimited. */
  bytesPerSecondPerKey: number | null
  /** A circuit or control connection with no byte either way this long is closed. */
  idleTimeoutMs: number
  /** Relay connections (control and circuits) from one source address. */
  maxConnectionsPerAddress: number
  /** Relay connections in all. */
  maxConnections: number
  /** A control connection must answer its challenge this fast. */
  authTimeoutMs: number
}

export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  pairingTimeoutMs: 15_000,
  maxCircuitsPerKey: 32,
  // Chat needs little; a burst lets a backlog of queued messages out at once.
  bytesPerSecondPerKey: 1024 * 1024,
  idleTimeoutMs: 120_000,
  maxConnectionsPerAddress: 64,
  maxConnections: 20_000,
  authTimeoutMs: 10_000,
}

export interface Refusal {
  status: number
  code: string
  message: string
}

/** Pure: may one more relay connection come from `address`? */
export function admitConnection(limits: RelayLimits, total: number, fromAddress: number): Refusal | undefined {
  if (total >= limits.maxConnections) {
    return {
      status: 503,
      code: ErrorCode.RelayFull,
      message: `the relay holds its maximum of ${limits.maxConnections} connections; try later`,
    }
  }
  if (fromAddress >= limits.maxConnectionsPerAddress) {
    return {
      status: 429,
      code: ErrorCode.TooManyConnections,
      message: `at most ${limits.maxConnectionsPerAddress} relay connections from one address`,
    }
  }
  return undefined
}

/**
 * Byte budgets per key: a token bucket each (burst: four seconds' worth). Reading from a key's
 * sockets pauses while its bucket is in debt; nothing read is ever dropped.
 */
export class ByteBudget {
  private readonly buckets = new Map<string, Bucket>()
  private readonly config: RateLimitConfig | null

  constructor(bytesPerSecond: number | null) {
    this.config = bytesPerSecond ? { perSecond: bytesPerSecond, burst: bytesPerSecond * 4 } : null
  }

  /** Charges `bytes` to `key`; the ms its sockets should stop reading (0: go on). */
  take(key: string, bytes: number, now: number): number {
    if (!this.config) return 0
    const { waitMs, bucket } = takeTokens(this.buckets.get(key), now, this.config, bytes)
    this.buckets.set(key, bucket)
    return waitMs
  }

  prune(now: number): void {
    if (!this.config) return
    for (const [key, bucket] of this.buckets) if (isFull(bucket, now, this.config)) this.buckets.delete(key)
  }
}
