/**
 * Timings and limits of a daemon. Defaults suit people; tests and benchmarks tighten them through
 * P2P_* environment variables (documented in the README) rather than by waiting.
 */
import type { RateLimitConfig } from '../protocol/token-bucket.js'
import type { BackoffPolicy } from './backoff.js'

export interface LinkTiming {
  backoff: BackoffPolicy
  pingIntervalMs: number
  /** A link that has received nothing (pings are answered), or whose messages wait for acks, this long is dead. */
  deadAfterMs: number
  /** A peer-link actor idle this long retires (its supervisor makes a new one when needed). */
  idleLifetimeMs: number
  handshakeTimeoutMs: number
  connectTimeoutMs: number
  /** Through the relay when no direct link is up this long after a direct dial started (SPEC section 9). */
  relayDelayMs: number
  /** While relayed: how often to try a direct link again. */
  directRetry: BackoffPolicy
  /** Incoming messages per link; over it, reading pauses (TCP pushes back on the sender, nothing is lost). */
  peerRate: RateLimitConfig | null
}

/** The mailbox (SPEC section 10): when a queued message goes there, and how often mine is fetched. */
export interface MailboxTiming {
  /** A queued message waits this long with no link up to its peer before it is deposited. */
  depositAfterMs: number
  /** Rounds (deposit what is due, drain mine): from baseMs, doubling while idle, up to maxMs. */
  poll: BackoffPolicy
}

export interface DaemonTuning {
  links: LinkTiming
  mailbox: MailboxTiming
  discoveryBackoff: BackoffPolicy
  outboxLifetimeMs: number
  maxPendingHandshakes: number
  maxPendingHandshakesPerAddress: number
  maxConnections: number
}

function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  return Number.isFinite(value) && value >= 0 ? value : fallback
}

export function tuningFromEnv(env: NodeJS.ProcessEnv = process.env): DaemonTuning {
  const pingIntervalMs = envNumber(env, 'P2P_PING_INTERVAL_MS', 15_000)
  const peerRate = envNumber(env, 'P2P_PEER_RATE', 20_000)
  return {
    links: {
      backoff: { baseMs: envNumber(env, 'P2P_RETRY_BASE_MS', 500), maxMs: envNumber(env, 'P2P_RETRY_MAX_MS', 15_000) },
      pingIntervalMs,
      deadAfterMs: pingIntervalMs * 3,
      idleLifetimeMs: 10 * 60_000,
      handshakeTimeoutMs: envNumber(env, 'P2P_HANDSHAKE_TIMEOUT_MS', 10_000),
      connectTimeoutMs: 5_000,
      relayDelayMs: envNumber(env, 'P2P_RELAY_DELAY_MS', 1000),
      directRetry: { baseMs: envNumber(env, 'P2P_DIRECT_RETRY_BASE_MS', 2000), maxMs: envNumber(env, 'P2P_DIRECT_RETRY_MAX_MS', 60_000) },
      peerRate: peerRate > 0 ? { perSecond: peerRate, burst: peerRate * 2 } : null,
    },
    mailbox: {
      depositAfterMs: envNumber(env, 'P2P_MAILBOX_AFTER_MS', 5_000),
      poll: { baseMs: envNumber(env, 'P2P_MAILBOX_POLL_MS', 2_000), maxMs: envNumber(env, 'P2P_MAILBOX_POLL_MAX_MS', 30_000) },
    },
    discoveryBackoff: { baseMs: envNumber(env, 'P2P_RETRY_BASE_MS', 500), maxMs: envNumber(env, 'P2P_DISCOVERY_RETRY_MAX_MS', 30_000) },
    outboxLifetimeMs: envNumber(env, 'P2P_OUTBOX_LIFETIME_S', 7 * 86_400) * 1000,
    maxPendingHandshakes: 64,
    maxPendingHandshakesPerAddress: envNumber(env, 'P2P_MAX_PENDING_PER_ADDRESS', 8),
    maxConnections: 4096,
  }
}
