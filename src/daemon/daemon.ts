/**
 * A running daemon: opens the profile, creates the services, starts the sockets and actors, and
 * takes everything down through one LIFO teardown stack. Order matters on the way up (the
 * listener's real port is what the discovery actor registers) and, by the stack, on the way down.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import type { Logger } from 'pino'
import { LISTEN_OFF } from '../protocol/advertise.js'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { fingerprint, toHex } from '../protocol/identity.js'
import type { ProfilePaths } from '../protocol/profile.js'
import type { StatusResult } from '../protocol/rpc.js'
import { type DaemonTuning, tuningFromEnv } from './config.js'
import { controlHandlers } from './control-api.js'
import { type ControlHandlers, ControlServer } from './control-server.js'
import { PeerListener } from './listener.js'
import { type OpenProfile, openProfile } from './open-profile.js'
import { createServices, type DaemonServices } from './services.js'
import { Teardown } from './teardown.js'

export { DEFAULT_SERVER_URL, resolveStartSettings } from './open-profile.js'

/** The package's version, as `status` reports it. */
export const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version
/** How stale the online count in `status` may get before `status` asks the server again... */
const ONLINE_MAX_AGE_MS = 5_000
/** ...and how long it waits for that answer before answering from what it has. */
const ONLINE_WAIT_MS = 1000

export interface DaemonOptions {
  home: string
  userId?: string
  port?: number
  serverUrl?: string
  /** A host to listen on, or `off` (remembered in the profile). */
  listen?: string
  /** HOST[:PORT] others should dial (remembered in the profile). */
  advertise?: string
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

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  let log: Logger | undefined
  const teardown = new Teardown((step, error) => log?.error({ err: error, step }, 'error while stopping'))
  // First on the stack, so last to run: whoever waits for the daemon to stop hears it at the very end.
  const stopped = new Promise<void>((resolve) => teardown.push('report stopped', resolve))
  try {
    const profile = openProfile(options, teardown)
    log = profile.log
    teardown.push('log stopped', () => profile.log.info('stopped'))
    const tuning = options.tuning ?? tuningFromEnv()
    const services = createServices(profile, tuning, teardown)
    const listen =
      profile.settings.listen === LISTEN_OFF
        ? noListener(services, teardown)
        : await startListener(profile, services, tuning, profile.settings.listen, teardown)
    const stop = async () => {
      profile.log.info('stopping')
      await teardown.run()
    }
    const status = statusReporter(profile, services, listen)
    await startControl(profile, services, status, () => void stop(), teardown)
    // Only once the control socket is ours: a second daemon started on a running profile fails
    // there, and must not have registered (or, stopping, unregistered) the running one's lease.
    services.goOnline(listen.port)
    // Unregistering is the first thing a stop does: peers stop dialing a daemon that is going.
    teardown.push('unregister', () => services.system.unregister())
    startHousekeeping(profile, services, tuning, teardown)
    profile.log.info(
      { userId: profile.settings.userId, listen, server: profile.settings.serverUrl, socket: profile.paths.socket },
      'daemon started',
    )
    return { paths: profile.paths, userId: profile.settings.userId, port: listen.port, stopped, stop }
  } catch (error) {
    await teardown.run()
    throw error
  }
}

async function startListener(
  profile: OpenProfile,
  services: DaemonServices,
  tuning: DaemonTuning,
  host: string | undefined,
  teardown: Teardown,
): Promise<{ host: string; port: number }> {
  const port = profile.settings.port
  const listen = (on: string) => listenOn(on, port, profile, services, tuning, teardown)
  try {
    // Dual-stack by default: the server records whichever address a daemon's requests come from,
    // IPv6 included, and peers dial exactly that. A machine without IPv6 listens on IPv4 alone.
    return await listen(host ?? '::').catch((error: NodeJS.ErrnoException) => {
      if (host !== undefined || !['EAFNOSUPPORT', 'EADDRNOTAVAIL'].includes(error.code ?? '')) throw error
      return listen('0.0.0.0')
    })
  } catch (error) {
    throw new P2PError(ErrorCode.Internal, `cannot listen on port ${port}: ${(error as Error).message}`)
  }
}

/** `--listen off`: no socket; peers reach this daemon through the relay only (port 0 tells them). */
function noListener(services: DaemonServices, teardown: Teardown): { host: string; port: number } {
  teardown.push('close peer links', () => services.links.stop())
  return { host: LISTEN_OFF, port: 0 }
}

async function listenOn(
  host: string,
  port: number,
  profile: OpenProfile,
  services: DaemonServices,
  tuning: DaemonTuning,
  teardown: Teardown,
): Promise<{ host: string; port: number }> {
  const listener = new PeerListener({
    host,
    port,
    maxPending: tuning.maxPendingHandshakes,
    maxPendingPerAddress: tuning.maxPendingHandshakesPerAddress,
    maxConnections: tuning.maxConnections,
    log: profile.log,
    accept: (socket) => services.links.accept(socket),
  })
  const listen = await listener.listen()
  teardown.push('close the peer listener', () => listener.close())
  // Above the listener on the stack: its close waits for the accepted connections to end.
  teardown.push('close peer links', () => services.links.stop())
  return listen
}

async function startControl(
  profile: OpenProfile,
  services: DaemonServices,
  status: ControlHandlers['status'],
  shutdown: () => void,
  teardown: Teardown,
): Promise<void> {
  const { paths, log } = profile
  const handlers = controlHandlers({ ...services, status, shutdown })
  const control = new ControlServer(paths.socket, handlers, log)
  await control.listen()
  teardown.push('close the control socket', () => control.close())
  writeFileSync(paths.pid, `${process.pid}\n`, { mode: 0o600 })
  teardown.push('remove the pid file', () => removeQuietly(paths.pid))
}

/** Background work: queued messages from an earlier run, outbox expiry. */
function startHousekeeping(profile: OpenProfile, services: DaemonServices, tuning: DaemonTuning, teardown: Teardown): void {
  const { log } = profile
  const { messages, outbox, links } = services
  // Messages left queued by an earlier run go out as soon as their peers can be reached.
  for (const peer of messages.peersWithQueued()) links.wake(peer)
  const expiryTimer = setInterval(
    () => {
      const expired = outbox.expire(Date.now() - tuning.outboxLifetimeMs)
      if (expired > 0) log.warn({ expired }, 'messages older than the outbox lifetime marked failed')
    },
    Math.min(60_000, Math.max(1000, tuning.outboxLifetimeMs / 10)),
  )
  expiryTimer.unref()
  teardown.push('stop outbox expiry', () => clearInterval(expiryTimer))
}

function statusReporter(profile: OpenProfile, services: DaemonServices, listen: { host: string; port: number }) {
  const { identity, settings, paths } = profile
  const { online, messages, links, keyConflicts, system, mailbox } = services
  const startedAt = Date.now()
  return async (params?: { verbose?: boolean }): Promise<StatusResult> => {
    await online.freshen(ONLINE_MAX_AGE_MS, ONLINE_WAIT_MS)
    const { registered, lastError } = system.registration()
    return {
      running: true,
      pid: process.pid,
      userId: settings.userId,
      fingerprint: fingerprint(identity.publicKey),
      publicKey: toHex(identity.publicKey),
      listen,
      server: { url: settings.serverUrl, registered, ...(lastError ? { error: lastError.message, errorCode: lastError.code } : {}) },
      relay: system.relay(),
      peers: { online: online.size, connected: links.connectedCount, keyChanged: keyConflicts.size },
      outbox: messages.counts(),
      mailbox: mailbox.status(),
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
      version: VERSION,
      home: paths.home,
      socket: paths.socket,
      ...(params?.verbose ? { actors: system.tree.describe(), links: links.describe() } : {}),
    }
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Not there: nothing to clean.
  }
}
