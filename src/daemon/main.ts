/**
 * `p2p daemon run`: the daemon in the foreground, for service managers and for `daemon start`,
 * which runs this detached. Signals stop it cleanly; anything thrown that nothing caught is
 * logged and ends the process with a non-zero code rather than leaving it half-alive.
 */
import { type DaemonOptions, startDaemon } from './daemon.js'

export async function runDaemon(options: DaemonOptions): Promise<number> {
  const daemon = await startDaemon(options)
  const lastResort = (kind: string) => (error: unknown) => {
    process.stderr.write(`p2p daemon: ${kind}: ${(error as Error)?.stack ?? error}\n`)
    daemon.stop().finally(() => process.exit(1))
    setTimeout(() => process.exit(1), 3000).unref()
  }
  process.on('uncaughtException', lastResort('uncaught exception'))
  process.on('unhandledRejection', lastResort('unhandled rejection'))
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void daemon.stop())
  // Only once the handlers are in place: a signal sent as soon as this line is read must find them.
  process.stdout.write(`p2p daemon for ${daemon.userId} on port ${daemon.port}, control socket ${daemon.paths.socket}\n`)

  await daemon.stopped
  return 0
}
