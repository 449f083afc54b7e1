/**
 * `p2p daemon run`: the daemon in the foreground, for service managers and for `daemon start`,
 * which runs this detached. SIGINT and SIGTERM stop it cleanly; SIGHUP reopens daemon.log (after
 * logrotate moved it) and never kills it; anything thrown that nothing caught is logged and ends
 * the process with a non-zero code rather than leaving it half-alive.
 */
import { fstatSync, mkdirSync, statSync } from 'node:fs'
import pino, { type DestinationStream, type Logger } from 'pino'
import { type ProfilePaths, profilePaths } from '../protocol/profile.js'
import { type DaemonOptions, startDaemon } from './daemon.js'
import { logPackagesOnSignal } from './loaded-packages.js'

export interface DaemonLogger {
  logger: Logger
  /** Opens daemon.log again by its name: the file a log rotator moved away is let go. */
  reopen(): void
}

/**
 * JSON lines to daemon.log in the profile and, when `alsoStderr`, to stderr too (journald and
 * `docker logs` read stderr). Synchronous writes: nothing is lost when the process exits.
 */
export function createDaemonLogger(paths: ProfilePaths, options: { alsoStderr: boolean }): DaemonLogger {
  mkdirSync(paths.home, { recursive: true, mode: 0o700 })
  const file = pino.destination({ dest: paths.log, sync: true, mkdir: true })
  const streams: DestinationStream = options.alsoStderr
    ? // Each stream takes every level; the logger's own level decides what is written.
      pino.multistream([
        { level: 'trace', stream: file },
        { level: 'trace', stream: pino.destination({ dest: 2, sync: true }) },
      ])
    : file
  return { logger: pino({ base: { pid: process.pid } }, streams), reopen: () => file.reopen() }
}

/**
 * Whether stderr already is the profile's daemon.out, i.e. this daemon was started
 * detached by `daemon start`, which sends its output there. Logging to stderr too would only write
 * every line twice into the profile.
 */
export function stderrIsDaemonOut(paths: ProfilePaths): boolean {
  try {
    const err = fstatSync(2)
    const out = statSync(paths.daemonOut)
    return err.isFile() && err.dev === out.dev && err.ino === out.ino
  } catch {
    return false
  }
}

export async function runDaemon(options: DaemonOptions): Promise<number> {
  const paths = profilePaths(options.home)
  const log = options.logger ? undefined : createDaemonLogger(paths, { alsoStderr: !stderrIsDaemonOut(paths) })
  const daemon = await startDaemon({ ...options, ...(log ? { logger: log.logger } : {}) })
  const lastResort = (kind: string) => (error: unknown) => {
    process.stderr.write(`p2p daemon: ${kind}: ${(error as Error)?.stack ?? error}\n`)
    daemon.stop().finally(() => process.exit(1))
    setTimeout(() => process.exit(1), 3000).unref()
  }
  process.on('uncaughtException', lastResort('uncaught exception'))
  process.on('unhandledRejection', lastResort('unhandled rejection'))
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void daemon.stop())
  // By default SIGHUP would kill the daemon and leave its socket and pid file behind.
  process.on('SIGHUP', () => {
    log?.reopen()
    log?.logger.info({ signal: 'SIGHUP' }, 'reopened daemon.log')
  })
  const logger = options.logger ?? log?.logger
  if (logger) logPackagesOnSignal(logger)
  // Only once the handlers are in place: a signal sent as soon as this line is read must find them.
  process.stdout.write(`p2p daemon for ${daemon.userId} on port ${daemon.port}, control socket ${daemon.paths.socket}\n`)

  await daemon.stopped
  return 0
}
