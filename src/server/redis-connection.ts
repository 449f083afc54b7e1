/**
 * The `--redis URL` of `p2p server` (parsed by redis-url.ts): one ioredis connection per instance.
 * Commands fail at once while Redis is unreachable instead of queueing: a request answers 503 and
 * `/healthz` says so, rather than every client waiting out its own timeout. ioredis keeps trying
 * to reconnect in the background, and the server recovers by itself when Redis is back.
 */
import { Redis } from 'ioredis'
import { parseRedisUrl } from './redis-url.js'
import { RegistryUnavailableError } from './registry.js'

const CONNECT_TIMEOUT_MS = 5000

/** A connection that is ready, or a rejection naming what went wrong within a few seconds. */
export async function connectRedis(raw: string): Promise<Redis> {
  const redis = new Redis({
    ...parseRedisUrl(raw),
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // No auto-pipelining: it keeps one batch in flight and holds the next until it is answered. It
    // cut Redis' CPU per keep-alive (47-58 µs to 28-33 µs) but on a starved machine (load 15) every
    // batch waited on two scheduling delays and keep-alives fell to 0.08x (BENCHMARKS.md, B4W).
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Reconnect for ever, never faster than every 100 ms nor slower than every second.
    retryStrategy: (times) => Math.min(100 * times, 1000),
  })
  // ioredis emits 'error' on every failed reconnect; without a listener Node would throw.
  redis.on('error', () => {})
  try {
    await redis.connect()
  } catch (err) {
    redis.disconnect()
    throw new Error(`cannot reach Redis at ${raw}: ${(err as Error).message}`)
  }
  return redis
}

/**
 * Runs Redis commands. Redis out of reach leaves as RegistryUnavailableError: the app answers 503,
 * not 500. An error Redis itself answered (a script bug) stays what it is.
 */
export async function callRedis<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if ((err as Error).name === 'ReplyError') throw err
    throw new RegistryUnavailableError(`Redis: ${(err as Error).message}`, { cause: err })
  }
}
