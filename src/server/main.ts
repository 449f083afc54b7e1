/**
 * Starts a discovery server: a registry, a request listener, a sweep timer. Returns once the
 * socket accepts connections, with the real port (`port: 0` picks one).
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import {
  DEFAULT_LEASE_TTL_SECONDS,
  DEFAULT_MAILBOX_DEPOSIT_RATE,
  DEFAULT_MAILBOX_MAX_ITEMS,
  DEFAULT_RESERVATION_DAYS,
  DEFAULT_SERVER_HOST,
  DEFAULT_SERVER_PORT,
} from '../protocol/defaults.js'
import { DEFAULT_MAILBOX_MAX_BYTES, MAILBOX_ITEM_LIFETIME_MS } from '../protocol/mailbox.js'
import { createApp } from './app.js'
import { BindingCache } from './binding-cache.js'
import { normalizeAddress } from './http.js'
import { MemoryMailboxStore } from './mailbox/memory-store.js'
import type { MailboxDeps } from './mailbox/routes.js'
import { SqliteMailboxStore } from './mailbox/sqlite-store.js'
import type { MailboxStore } from './mailbox/store.js'
import { MemoryRegistry } from './memory-registry.js'
import { PeerPageCache } from './peer-page-cache.js'
import { type AddressLimiter, DEFAULT_RATE_LIMIT, type RateLimitConfig, RateLimiter } from './rate-limit.js'
import type { Registry } from './registry.js'
import { resolveRelayUrl } from './relay/relay-home.js'
import type { RelayLimits } from './relay/relay-limits.js'
import { localOnly, NO_RELAY_URL, type RelayNeighbours } from './relay/relay-neighbours.js'
import { refuseRelay, startRelay } from './relay/start-relay.js'
import { SqliteRegistry } from './sqlite-registry.js'

export const DEFAULT_TTL_SECONDS = DEFAULT_LEASE_TTL_SECONDS
export const DEFAULT_RESERVATION_SECONDS = DEFAULT_RESERVATION_DAYS * 86_400
/** How often an instance on a shared registry reads its presence version (see peer-page-cache.ts). */
const PRESENCE_POLL_MS = 200

export interface DiscoveryServerOptions {
  host?: string
  port?: number
  /** Lease lifetime without a keep-alive. */
  ttlSeconds?: number
  /** How long a binding outlives its last lease, so nobody takes a name by waiting. */
  reservationSeconds?: number
  /** SQLite file; ignored when `memory` or `redisUrl` is set or `registry` is given. */
  dbPath?: string
  memory?: boolean
  /** `redis://HOST:PORT[/DB]` or `unix:///PATH`: a registry shared by several instances. */
  redisUrl?: string
  /**
   * With `redisUrl`: this instance's address as daemons reach it directly, so circuits to daemons
   * connected here can meet here when dialed from another instance (a port of 0: the real port).
   * Without it, circuits across instances are off.
   */
  relayUrl?: string
  /** A ready registry (e.g. a shared backend); the server closes it on close(). */
  registry?: Registry
  logger: Logger
  /** Proxies whose X-Forwarded-For names the client (see client-address.ts). */
  trustProxy?: ReadonlySet<string>
  /** Per remote address; `false` turns limiting off. */
  rateLimit?: RateLimitConfig | false
  /** The relay's limits (defaults for those not given); `false` turns the relay off (--no-relay). */
  relay?: Partial<RelayLimits> | false
  /** Sees every byte the relay copies (tests: none of it may be plaintext). */
  relayTap?: (chunk: Buffer) => void
  /** Clock in ms, for tests. */
  now?: () => number
  /** Mailbox limits (each defaults as in protocol/mailbox.ts); `false` turns the mailbox off (`--no-mailbox`). */
  mailbox?: MailboxOptions | false
  /** A ready mailbox store (e.g. a shared backend); else beside the registry (SQLite file, or memory). */
  mailboxStore?: MailboxStore
}

export interface MailboxOptions {
  maxItems?: number
  maxBytes?: number
  /** Deposits per second per source address (burst: ten times that); `false`: no limit of its own. */
  depositRate?: number | false
  lifetimeMs?: number
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

/** The registry, and the limiter that goes with it: shared through Redis when the registry is. */
async function openStores(
  options: DiscoveryServerOptions,
  rateLimit: RateLimitConfig | false,
): Promise<{ registry: Registry; limiter?: AddressLimiter; mailboxStore?: MailboxStore; neighbours?: RelayNeighbours }> {
  const local = (registry: Registry) => ({ registry, ...(rateLimit ? { limiter: new RateLimiter(rateLimit) } : {}) })
  if (options.registry) return local(options.registry)
  if (options.redisUrl) {
    // Loaded only when asked for: a SQLite or memory server never pays for ioredis.
    const [{ connectRedis }, { RedisRegistry }, { RedisRateLimiter }, { RedisMailboxStore }, { RedisRelayNeighbours }] = await Promise.all([
      import('./redis-connection.js'),
      import('./redis-registry.js'),
      import('./redis-rate-limit.js'),
      import('./mailbox/redis-store.js'),
      import('./relay/redis-relay-neighbours.js'),
    ])
    const redis = await connectRedis(options.redisUrl)
    return {
      registry: new RedisRegistry(redis),
      mailboxStore: new RedisMailboxStore(redis),
      neighbours: options.relayUrl ? new RedisRelayNeighbours(redis, options.logger) : localOnly(NO_RELAY_URL),
      ...(rateLimit ? { limiter: new RedisRateLimiter(redis, rateLimit) } : {}),
    }
  }
  if (options.memory) return local(new MemoryRegistry())
  if (!options.dbPath) throw new Error('a discovery server needs dbPath, memory, redisUrl or registry')
  return local(new SqliteRegistry(options.dbPath))
}

/** `shared`: the store that comes with the registry's backend (Redis), so every instance sees every item. */
function openMailbox(options: DiscoveryServerOptions, shared?: MailboxStore): MailboxDeps | undefined {
  if (options.mailbox === false) return undefined
  const o = options.mailbox ?? {}
  const store =
    options.mailboxStore ??
    shared ??
    (options.memory || options.registry || !options.dbPath ? new MemoryMailboxStore() : new SqliteMailboxStore(options.dbPath))
  const rate = o.depositRate ?? DEFAULT_MAILBOX_DEPOSIT_RATE
  return {
    store,
    quota: { maxItems: o.maxItems ?? DEFAULT_MAILBOX_MAX_ITEMS, maxBytes: o.maxBytes ?? DEFAULT_MAILBOX_MAX_BYTES },
    lifetimeMs: o.lifetimeMs ?? MAILBOX_ITEM_LIFETIME_MS,
    ...(rate ? { depositLimiter: new RateLimiter({ perSecond: rate, burst: rate * 10 }) } : {}),
  }
}

export async function startDiscoveryServer(options: DiscoveryServerOptions): Promise<DiscoveryServer> {
  const host = options.host ?? DEFAULT_SERVER_HOST
  const ttlMs = (options.ttlSeconds ?? DEFAULT_TTL_SECONDS) * 1000
  const reservationMs = (options.reservationSeconds ?? DEFAULT_RESERVATION_SECONDS) * 1000
  const now = options.now ?? Date.now
  const { logger } = options
  const rateLimit = options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : options.rateLimit
  const { registry, limiter, mailboxStore, neighbours } = await openStores(options, rateLimit)

  // lastSeen moves by a keep-alive every ttl/3; a page may lag it by a second at most.
  const peerPages = new PeerPageCache(Math.min(1000, ttlMs / 3))
  let leaseSecret: Buffer | undefined
  try {
    leaseSecret = await registry.leaseSecret?.()
  } catch (err) {
    await registry.close()
    throw err
  }
  const mailbox = openMailbox(options, mailboxStore)
  const app = createApp(
    {
      registry,
      ttlMs,
      reservationMs,
      now,
      peerPages,
      bindings: new BindingCache(),
      ...(leaseSecret ? { leaseSecret } : {}),
      ...(mailbox ? { mailbox } : {}),
    },
    { logger, ...(limiter ? { limiter } : {}), ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}) },
  )
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
    options.relay === false
      ? undefined
      : startRelay({ registry, logger, now, limits: options.relay ?? {}, tap: options.relayTap, neighbours })
  server.on('upgrade', relay ? (req, socket, head) => relay.handleUpgrade(req, socket, head) : refuseRelay)
  // Slow or silent clients must not hold sockets for ever.
  server.headersTimeout = 10_000
  server.requestTimeout = 15_000

  // Sweeping is housekeeping only (every read checks expiry itself), so its rhythm is loose.
  const sweep = setInterval(
    () => {
      const t = now()
      limiter?.prune?.(t)
      mailbox?.depositLimiter?.prune(t)
      relay?.prune(t)
      registry.sweep(t).catch((err: unknown) => logger.warn({ err }, 'registry sweep failed'))
      mailbox?.store.sweep(t).catch((err: unknown) => logger.warn({ err }, 'mailbox sweep failed'))
    },
    Math.max(1000, Math.min(ttlMs, 60_000)),
  )
  sweep.unref()
  // Another instance's registrations reach this one's cached pages within this interval.
  const presence = registry.presenceVersion
    ? setInterval(() => {
        registry.presenceVersion!().then(
          (v) => peerPages.observe(v),
          () => peerPages.invalidate(),
        )
      }, PRESENCE_POLL_MS)
    : undefined
  presence?.unref()

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
    clearInterval(presence)
    await registry.close()
    await mailbox?.store.close()
    throw err
  }
  const port = (server.address() as AddressInfo).port
  const url = formatUrl(host, port)
  const relayUrl = resolveRelayUrl(options.relayUrl, port)
  try {
    // Only instances that share a namespace have neighbours; alone, circuits always meet here.
    await relay?.startNeighbours(options.redisUrl ? relayUrl : undefined)
  } catch (err) {
    server.close()
    clearInterval(sweep)
    clearInterval(presence)
    await relay?.close()
    await registry.close()
    await mailbox?.store.close()
    throw err
  }
  if (relay && options.redisUrl && !relayUrl) logger.warn(`relay: ${NO_RELAY_URL}`)
  logger.info(
    {
      url,
      ttlSeconds: ttlMs / 1000,
      reservationSeconds: reservationMs / 1000,
      rateLimit,
      backend: registry.constructor.name,
      mailbox: mailbox ? { ...mailbox.quota, backend: mailbox.store.constructor.name } : false,
      relay: Boolean(relay),
      ...(relay && options.redisUrl && relayUrl ? { relayUrl } : {}),
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
        clearInterval(presence)
        await relay?.close()
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        // Idle keep-alive sockets go now; requests in flight get a moment to finish.
        server.closeIdleConnections()
        const force = setTimeout(() => server.closeAllConnections(), 2000)
        await closed
        clearTimeout(force)
        await registry.close()
        await mailbox?.store.close()
        logger.info('closed')
      })()
      return closing
    },
  }
}
