/**
 * The root of a running daemon: opens the profile, wires stores, actors and servers together, and
 * takes them down in order. Order matters on the way up (the listener's real port is what the
 * discovery actor registers) and on the way down (unregister before closing links, flush writes
 * before closing the database).
 */
import { chmodSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import pino, { type Logger } from 'pino'
import { createActor, waitFor } from 'xstate'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { fingerprint, toHex } from '../protocol/identity.js'
import { type ProfilePaths, profilePaths } from '../protocol/profile.js'
import type { StatusResult } from '../protocol/rpc.js'
import { isValidUserId, normalizeUserId, USER_ID_RULE } from '../protocol/user-id.js'
import { type DaemonTuning, tuningFromEnv } from './config.js'
import { controlHandlers } from './control-api.js'
import { ControlServer } from './control-server.js'
import { discoveryMachineFor } from './discovery.machine.js'
import { DiscoveryClient } from './discovery-client.js'
import { EventHub } from './event-hub.js'
import { loadOrCreateIdentity } from './identity-file.js'
import { Inbox } from './inbox.js'
import { LinkManager } from './link-manager.js'
import { PeerListener } from './listener.js'
import { OnlinePeers } from './online-peers.js'
import { Outbox } from './outbox.js'
import { type Checkpointer, startCheckpointer } from './stores/checkpointer.js'
import { openDatabase } from './stores/database.js'
import { MessageStore } from './stores/message-store.js'
import { PeerStore } from './stores/peer-store.js'
import { PolicyStore } from './stores/policy-store.js'
import { SettingsStore } from './stores/settings-store.js'
import { WriteBatcher } from './stores/write-batcher.js'

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:5000'
/** The package's version, as `status` reports it. */
export const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version
/** How stale the online count in `status` may get before it is refreshed in the background. */
const ONLINE_MAX_AGE_MS = 15_000

export interface DaemonOptions {
  home: string
  userId?: string
  port?: number
  serverUrl?: string
  listenHost?: string
  tuning?: DaemonTuning
  /** Where logs go; defaults to daemon.log in the profile. */
  logger?: Logger
}

export interface RunningDaemon {
  paths: ProfilePaths
  userId: string
  port: number
  /** Resolves when the daemon has stopped (by stop() or a shutdown request). */
  stopped: Promise<void>
  stop(): Promise<void>
}

/** Pure: the settings a start uses, from its flags and what the profile remembers. */
export function resolveStartSettings(
  flags: { userId?: string; port?: number; serverUrl?: string },
  stored: { userId?: string; port?: string; serverUrl?: string },
): { userId: string; port: number; serverUrl: string } {
  const userId = flags.userId ? normalizeUserId(flags.userId) : stored.userId
  if (!userId) throw new P2PError(ErrorCode.NotConfigured, 'this profile has no user yet: start it once with --user ID')
  if (!isValidUserId(userId)) throw new P2PError(ErrorCode.InvalidUserId, `invalid user id "${flags.userId}": ${USER_ID_RULE}`)
  if (stored.userId && stored.userId !== userId) {
    throw new P2PError(ErrorCode.Usage, `this profile belongs to ${stored.userId}; use another --home for ${userId}`)
  }
  return {
    userId,
    port: flags.port ?? (stored.port !== undefined ? Number(stored.port) : 0),
    serverUrl: flags.serverUrl ?? stored.serverUrl ?? DEFAULT_SERVER_URL,
  }
}

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const paths = profilePaths(options.home)
  mkdirSync(paths.home, { recursive: true, mode: 0o700 })
  chmodSync(paths.home, 0o700)
  const tuning = options.tuning ?? tuningFromEnv()
  const log = options.logger ?? pino({ base: { pid: process.pid } }, pino.destination({ dest: paths.log, sync: true, mkdir: true }))

  const db = openDatabase(paths.database)
  const settings = new SettingsStore(db)
  let settled: ReturnType<typeof resolveStartSettings>
  try {
    settled = resolveStartSettings(options, {
      ...(settings.get('userId') ? { userId: settings.get('userId') as string } : {}),
      ...(settings.get('port') ? { port: settings.get('port') as string } : {}),
      ...(settings.get('serverUrl') ? { serverUrl: settings.get('serverUrl') as string } : {}),
    })
  } catch (error) {
    db.close()
    throw error
  }
  const { userId, serverUrl } = settled
  settings.set('userId', userId)
  settings.set('serverUrl', serverUrl)
  settings.set('port', String(settled.port))
  const { identity, created } = loadOrCreateIdentity(paths.identity)
  if (created) log.info({ fingerprint: fingerprint(identity.publicKey) }, 'created a new identity')

  const batcher = new WriteBatcher(db)
  const messages = new MessageStore(db)
  const peers = new PeerStore(db)
  const policy = new PolicyStore(db)
  const events = new EventHub()
  const outbox = new Outbox(messages, batcher)
  const inbox = new Inbox(messages, policy, batcher, events, (error) => log.error({ err: error }, 'could not store an incoming message'))
  const discovery = new DiscoveryClient(serverUrl, identity, userId)
  const links = new LinkManager({ identity, userId, discovery, peers, policy, inbox, outbox, log, timing: tuning.links })

  const listener = new PeerListener({
    host: options.listenHost ?? '0.0.0.0',
    port: settled.port,
    maxPending: tuning.maxPendingHandshakes,
    maxPendingPerAddress: tuning.maxPendingHandshakesPerAddress,
    maxConnections: tuning.maxConnections,
    log,
    accept: (socket) => links.accept(socket),
  })
  let listen: { host: string; port: number }
  try {
    listen = await listener.listen()
  } catch (error) {
    db.close()
    throw new P2PError(ErrorCode.Internal, `cannot listen on port ${settled.port}: ${(error as Error).message}`)
  }

  const discoveryActor = createActor(
    discoveryMachineFor({
      register: (signal) => discovery.register(listen.port, undefined, signal),
      keepalive: (signal) => discovery.keepalive(signal),
      unregister: (signal) => discovery.unregister(signal),
    }),
    { input: { backoff: tuning.discoveryBackoff } },
  )
  discoveryActor.subscribe({ error: (error) => log.error({ err: error }, 'discovery actor failed') })
  let lastDiscoveryState = ''
  discoveryActor.subscribe((snapshot) => {
    const state = `${String(snapshot.value)}${snapshot.context.lastError ? `: ${snapshot.context.lastError}` : ''}`
    if (state !== lastDiscoveryState) {
      lastDiscoveryState = state
      log.info({ discovery: snapshot.value, registered: snapshot.context.registered, error: snapshot.context.lastError }, 'discovery')
    }
  })

  const startedAt = Date.now()
  const online = new OnlinePeers(discovery, userId)
  let resolveStopped: () => void = () => {}
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve
  })

  const status = (): StatusResult => {
    online.refreshIfOlderThan(ONLINE_MAX_AGE_MS)
    const discoverySnapshot = discoveryActor.getSnapshot()
    const counts = messages.counts()
    return {
      running: true,
      pid: process.pid,
      userId,
      fingerprint: fingerprint(identity.publicKey),
      publicKey: toHex(identity.publicKey),
      listen,
      server: {
        url: serverUrl,
        registered: discoverySnapshot.context.registered,
        ...(discoverySnapshot.context.lastError ? { error: discoverySnapshot.context.lastError } : {}),
      },
      peers: { online: online.size, connected: links.connectedCount, keyChanged: links.keyConflictCount },
      outbox: counts,
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
      version: VERSION,
      home: paths.home,
    }
  }

  let checkpointer: Checkpointer | undefined
  let expiryTimer: NodeJS.Timeout | undefined
  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      log.info('stopping')
      clearInterval(expiryTimer)
      discoveryActor.send({ type: 'STOP' })
      await waitFor(discoveryActor, (s) => s.status === 'done', { timeout: 3000 }).catch(() => undefined)
      discoveryActor.stop()
      links.stop()
      await Promise.all([listener.close(), control.close()])
      batcher.flush()
      await checkpointer?.stop()
      db.close()
      removeQuietly(paths.pid)
      log.info('stopped')
      log.flush?.()
      resolveStopped()
    })()
    return stopping
  }

  const control = new ControlServer(
    paths.socket,
    controlHandlers({ userId, discovery, peers, policy, messages, outbox, links, events, status, online, shutdown: () => void stop() }),
    log,
  )
  try {
    await control.listen()
  } catch (error) {
    await listener.close()
    db.close()
    throw error
  }
  writeFileSync(paths.pid, `${process.pid}\n`, { mode: 0o600 })
  checkpointer = startCheckpointer(paths.database, 500, (error) => log.error({ err: error }, 'checkpointer failed'))
  discoveryActor.start()

  // Messages left queued by an earlier run go out as soon as their peers can be reached.
  for (const peer of messages.peersWithQueued()) links.wake(peer)
  expiryTimer = setInterval(
    () => {
      const expired = outbox.expire(Date.now() - tuning.outboxLifetimeMs)
      if (expired > 0) log.warn({ expired }, 'messages older than the outbox lifetime marked failed')
    },
    Math.min(60_000, Math.max(1000, tuning.outboxLifetimeMs / 10)),
  )
  expiryTimer.unref()

  log.info({ userId, listen, server: serverUrl, socket: paths.socket }, 'daemon started')
  return { paths, userId, port: listen.port, stopped, stop }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Not there: nothing to clean.
  }
}
