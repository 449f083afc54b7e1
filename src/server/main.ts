/**
 * Starts a discovery server: a registry, a request listener, a sweep timer. Returns once the
 * socket accepts connections, with the real port (`port: 0` picks one).
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { DEFAULT_LEASE_TTL_SECONDS, DEFAULT_RESERVATION_DAYS, DEFAULT_SERVER_HOST, DEFAULT_SERVER_PORT } from '../protocol/defaults.js'
import { createApp } from './app.js'
import { normalizeAddress } from './http.js'
import { MemoryRegistry } from './memory-registry.js'
import { DEFAULT_RATE_LIMIT, type RateLimitConfig, RateLimiter } from './rate-limit.js'
import type { Registry } from './registry.js'
import type { RelayLimits } from './relay/relay-limits.js'
import { refuseRelay, startRelay } from './relay/start-relay.js'
import { SqliteRegistry } from './sqlite-registry.js'

export const DEFAULT_TTL_SECONDS = DEFAULT_LEASE_TTL_SECONDS
export const DEFAULT_RESERVATION_SECONDS = DEFAULT_RESERVATION_DAYS * 86_400

export interface DiscoveryServerOptions {
  host?: string
  port?: number
  /** Lease lifetime without a keep-alive. */
  ttlSeconds?: number
  /** How long a binding outlives its last lease, so nobody takes a name by waiting. */
  reservationSeconds?: number
  /** SQLite file; ignored when `memory` is set or `registry` is given. */
  dbPath?: string
  memory?: boolean
  /** A ready registry (e.g. a shared backend); the server closes it on close(). */
  registry?: Registry
  logger: Logger
  /** Per remote address; `false` turns limiting off. */
  rateLimit?: RateLimitConfig | false
  /** The relay's limits (defaults for those not given); `false` turns the relay off (--no-relay). */
  relay?: Partial<RelayLimits> | false
  /** Sees every byte the relay copies (tests: none of it may be plaintext). */
  relayTap?: (chunk: Buffer) => void
  /** Clock in ms, for tests. */
  now?: () => number
}

export interface DiscoveryServer {
  url: string
  port: number
  close(): Promise<void>
}

/** Pure: `http://HOST:PORT`, bracketing IPv6 literals. */
export function formatUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

function clientOf(req: IncomingMessage): { remoteAddress?: string } {
  const remoteAddress = normalizeAddress(req.socket.remoteAddress)
  return remoteAddress ? { remoteAddress } : {}
}

function openRegistry(options: DiscoveryServerOptions): Registry {
  if (options.registry) return options.registry
  if (options.memory) return new MemoryRegistry()
  if (!options.dbPath) throw new Error('a discovery server needs dbPath, memory or registry')
  return new SqliteRegistry(options.dbPath)
}

export async function startDiscoveryServer(options: DiscoveryServerOptions): Promise<DiscoveryServer> {
  const host = options.host ?? DEFAULT_SERVER_HOST
  const ttlMs = (options.ttlSeconds ?? DEFAULT_TTL_SECONDS) * 1000
  const reservationMs = (options.reservationSeconds ?? DEFAULT_RESERVATION_SECONDS) * 1000
  const now = options.now ?? Date.now
  const { logger } = options
  const registry = openRegistry(options)
  const rateLimit = options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : options.rateLimit
  const limiter = rateLimit ? new RateLimiter(rateLimit) : undefined

  const app = createApp({ registry, ttlMs, reservationMs, now }, { logger, limiter })
  const server = createServer((req, res) => {
    app(req, res).then(
      () => {
        // The app answers every request whose client is still there: one that went away mid-request
        // is the client's business, not a server error (issue 13, point 6).
        if (!res.headersSent) logger.debug({ method: req.method, url: req.url, ...clientOf(req) }, 'client closed the request')
      },
      (err: unknown) => {
        // Only a failure while writing the reply gets here; that one connection is given up.
        if (res.destroyed) logger.debug({ err, method: req.method, url: req.url, ...clientOf(req) }, 'client closed the request')
        else logger.error({ err }, 'could not answer request')
        res.destroy()
      },
    )
  })
  const relay =
    options.relay === false ? undefined : startRelay({ registry, logger, now, limits: options.relay ?? {}, tap: options.relayTap })
  server.on('upgrade', relay ? (req, socket, head) => relay.handleUpgrade(req, socket, head) : refuseRelay)
  // Slow or silent clients must not hold sockets for ever.
  server.headersTimeout = 10_000
  server.requestTimeout = 15_000

  // Sweeping is housekeeping only (every read checks expiry itself), so its rhythm is loose.
  const sweep = setInterval(
    () => {
      const t = now()
      limiter?.prune(t)
      relay?.prune(t)
      registry.sweep(t).catch((err: unknown) => logger.warn({ err }, 'registry sweep failed'))
    },
    Math.max(1000, Math.min(ttlMs, 60_000)),
  )
  sweep.unref()

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? DEFAULT_SERVER_PORT, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    clearInterval(sweep)
    await registry.close()
    throw err
  }
  const port = (server.address() as AddressInfo).port
  const url = formatUrl(host, port)
  logger.info(
    {
      url,
      ttlSeconds: ttlMs / 1000,
      reservationSeconds: reservationMs / 1000,
      rateLimit,
      backend: registry.constructor.name,
      relay: Boolean(relay),
    },
    'listening',
  )

  let closing: Promise<void> | undefined
  return {
    url,
    port,
    close() {
      closing ??= (async () => {
        clearInterval(sweep)
        relay?.close()
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        // Idle keep-alive sockets go now; requests in flight get a moment to finish.
        server.closeIdleConnections()
        const force = setTimeout(() => server.closeAllConnections(), 2000)
        await closed
        clearTimeout(force)
        await registry.close()
        logger.info('closed')
      })()
      return closing
    },
  }
}
