import { join } from 'node:path'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import {
  DEFAULT_LEASE_TTL_SECONDS,
  DEFAULT_MAILBOX_DEPOSIT_RATE,
  DEFAULT_MAILBOX_MAX_ITEMS,
  DEFAULT_RATE_LIMIT_PER_SECOND,
  DEFAULT_RESERVATION_DAYS,
  DEFAULT_SERVER_HOST,
  DEFAULT_SERVER_PORT,
} from '../protocol/defaults.js'

/** Pure: the relay limits the flags set; the server fills in the rest. */
export function relayLimits(flags: {
  'relay-rate'?: number | undefined
  'relay-idle'?: number | undefined
  'relay-pairing'?: number | undefined
  'relay-circuits'?: number | undefined
  'relay-per-address'?: number | undefined
  'relay-max'?: number | undefined
}) {
  const seconds = (s: number | undefined) => (s === undefined ? undefined : s * 1000)
  const limits = {
    bytesPerSecondPerKey: flags['relay-rate'] === undefined ? undefined : flags['relay-rate'] || null,
    idleTimeoutMs: seconds(flags['relay-idle']),
    pairingTimeoutMs: seconds(flags['relay-pairing']),
    maxCircuitsPerKey: flags['relay-circuits'],
    maxConnectionsPerAddress: flags['relay-per-address'],
    maxConnections: flags['relay-max'],
  }
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined))
}

export default class Server extends BaseCommand {
  static override summary = 'Run a discovery server in the foreground'

  static override description =
    'Peers register here, keep their lease alive, and find each other. Bindings of user ids to keys are kept in an embedded SQLite file (--db, else registry.db in --home when given) so that they survive restarts; --memory keeps nothing. It also keeps sealed mailbox items for users who are offline (at most 7 days, --mailbox-quota items each; --no-mailbox refuses them): they are stored with the registry and never readable by the server. --redis shares bindings and leases between several instances. It is also a blind relay on the same port for daemons that cannot reach each other directly (--no-relay turns it off). Logs are JSON lines on stderr; SIGHUP is logged and ignored, SIGINT and SIGTERM stop the server. With --json the ready line is {"listening":"http://HOST:PORT"} and a failure is {"error":{code,message}}.'

  static override examples = [
    '<%= config.bin %> server',
    '<%= config.bin %> server --port 0 --memory',
    '<%= config.bin %> server --port 0 --memory --json',
    '<%= config.bin %> server --host 127.0.0.1 --port 5000 --ttl 60 --db ./registry.db',
    '<%= config.bin %> server --port 5001 --redis redis://127.0.0.1:6379/0 --trust-proxy 127.0.0.1',
    '<%= config.bin %> server --port 5001 --redis redis://10.0.0.5:6379 --relay-url http://10.0.0.11:5001',
    '<%= config.bin %> server --no-relay',
  ]

  static override flags = {
    host: Flags.string({ summary: 'Address to listen on.', default: DEFAULT_SERVER_HOST }),
    port: Flags.integer({ summary: 'Port to listen on; 0 picks a free one.', default: DEFAULT_SERVER_PORT, min: 0, max: 65535 }),
    ttl: Flags.integer({ summary: 'Seconds a lease lives without a keep-alive.', default: DEFAULT_LEASE_TTL_SECONDS, min: 1 }),
    db: Flags.string({
      summary: 'SQLite file for the registry.',
      description:
        'Default: registry.db in --home when that flag is given, else $XDG_DATA_HOME/p2p-server/registry.db, else ~/.local/share/p2p-server/registry.db.',
      exclusive: ['memory', 'redis'],
    }),
    memory: Flags.boolean({ summary: 'Keep the registry in memory only; nothing survives a restart.', exclusive: ['db', 'redis'] }),
    redis: Flags.string({
      summary: 'Keep the registry in Redis, shared by every instance given the same URL.',
      description:
        'redis://[:PASSWORD@]HOST[:PORT][/DB], rediss://… (TLS) or unix:///PATH[?db=N]. Leases, bindings, replay nonces and the per-address rate limit live in Redis, so several instances behind one address serve one namespace; /healthz answers 503 while Redis is unreachable.',
      helpValue: 'URL',
      exclusive: ['db', 'memory'],
    }),
    'relay-url': Flags.string({
      summary: "This instance's address as daemons reach it directly, for relay circuits across instances.",
      description:
        "With --redis: a circuit meets on the instance that holds the dialed daemon's relay connection, and daemons connected elsewhere are sent there at this URL (http(s)://HOST:PORT; a port of 0 stands for the port this instance listens on). Without it, circuits to daemons on other instances are refused with peer_unreachable.",
      helpValue: 'URL',
      dependsOn: ['redis'],
    }),
    'trust-proxy': Flags.string({
      summary: 'Comma-separated addresses of load balancers whose X-Forwarded-For names the client.',
      helpValue: 'ADDR[,ADDR]',
    }),
    reservation: Flags.string({
      summary: 'How long a user id stays bound to its key after its owner goes offline (e.g. 30d).',
      default: `${DEFAULT_RESERVATION_DAYS}d`,
    }),
    'rate-limit': Flags.integer({
      summary: 'Requests per second per client address (burst: twice that); 0 turns limiting off.',
      default: DEFAULT_RATE_LIMIT_PER_SECOND,
      min: 0,
    }),
    mailbox: Flags.boolean({
      summary: 'Keep sealed mailbox items for offline users (--no-mailbox: refuse them).',
      default: true,
      allowNo: true,
    }),
    'mailbox-quota': Flags.integer({ summary: 'Mailbox items kept per recipient.', default: DEFAULT_MAILBOX_MAX_ITEMS, min: 1 }),
    'mailbox-rate': Flags.integer({
      summary: 'Mailbox deposits per second per client address (burst: ten times that); 0 turns this limit off.',
      default: DEFAULT_MAILBOX_DEPOSIT_RATE,
      min: 0,
    }),
    relay: Flags.boolean({
      summary: 'Relay links between daemons that cannot reach each other (--no-relay turns it off).',
      default: true,
      allowNo: true,
    }),
    'relay-rate': Flags.integer({ summary: 'Bytes per second one key may send through the relay; 0 = unlimited.', min: 0 }),
    'relay-idle': Flags.integer({ summary: 'Seconds a relay connection may stay silent before it is closed.', min: 1 }),
    'relay-pairing': Flags.integer({ summary: 'Seconds one end of a relay circuit waits for the other.', min: 1 }),
    'relay-circuits': Flags.integer({ summary: 'Relay circuits one key may have at once.', min: 1 }),
    'relay-per-address': Flags.integer({ summary: 'Relay connections from one address.', min: 1 }),
    'relay-max': Flags.integer({ summary: 'Relay connections in all.', min: 1 }),
    'log-level': Flags.option({ options: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, default: 'info' })(),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Server)
    // Loaded here, not at the top: other commands must never pay for the server, pino or SQLite.
    const [
      { parseDurationSeconds },
      { defaultDbPath },
      { startDiscoveryServer },
      { createServerLogger },
      { parseRedisUrl },
      { parseTrustedProxies },
      { checkRelayUrl },
    ] = await Promise.all([
      import('../protocol/duration.js'),
      import('../server/paths.js'),
      import('../server/main.js'),
      import('../server/logger.js'),
      import('../server/redis-url.js'),
      import('../server/client-address.js'),
      import('../protocol/server-url.js'),
    ])
    const reservationSeconds = parseDurationSeconds(flags.reservation)
    if (reservationSeconds === undefined)
      this.error(`--reservation: "${flags.reservation}" is not a duration such as 30d or 12h`, { exit: 2 })
    let trustProxy: ReadonlySet<string> | undefined
    try {
      if (flags.redis) parseRedisUrl(flags.redis)
      if (flags['relay-url']) checkRelayUrl(flags['relay-url'])
      if (flags['trust-proxy']) trustProxy = parseTrustedProxies(flags['trust-proxy'])
    } catch (err) {
      this.error((err as Error).message, { exit: 2 })
    }
    const logger = createServerLogger(flags['log-level'])
    const rate = flags['rate-limit']

    let server: Awaited<ReturnType<typeof startDiscoveryServer>>
    try {
      server = await startDiscoveryServer({
        host: flags.host,
        port: flags.port,
        ttlSeconds: flags.ttl,
        reservationSeconds,
        // Only an explicit --home moves the database: a P2P_HOME set for a daemon must not.
        ...(flags.redis
          ? { redisUrl: flags.redis, ...(flags['relay-url'] ? { relayUrl: flags['relay-url'] } : {}) }
          : flags.memory
            ? { memory: true }
            : { dbPath: flags.db ?? (flags.home ? join(flags.home, 'registry.db') : defaultDbPath()) }),
        ...(trustProxy ? { trustProxy } : {}),
        rateLimit: rate > 0 ? { perSecond: rate, burst: rate * 2 } : false,
        mailbox: flags.mailbox ? { maxItems: flags['mailbox-quota'], depositRate: flags['mailbox-rate'] || false } : false,
        relay: flags.relay ? relayLimits(flags) : false,
        logger,
      })
    } catch (err) {
      this.error(`cannot start the discovery server: ${(err as Error).message}`, { exit: 1 })
    }
    // Handlers first, then the line that tells the world we are up: a signal sent the moment
    // that line is read must already find them.
    const stopped = new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'))
      process.once('SIGTERM', () => resolve('SIGTERM'))
    })
    // A closed terminal or a service manager's "reload" must not kill it (by default SIGHUP does):
    // its logs go to stderr, so there is no file to reopen.
    process.on('SIGHUP', () => logger.info({ signal: 'SIGHUP' }, 'SIGHUP: nothing to reload, still serving'))
    if (this.jsonEnabled()) this.logJson({ listening: server.url })
    else this.log(`listening on ${server.url}`)
    const signal = await stopped
    logger.info({ signal }, 'shutting down')
    await server.close()
  }
}
