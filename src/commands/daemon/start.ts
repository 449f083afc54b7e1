import { join } from 'node:path'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import {
  assertSettingsMatch,
  awaitRegistration,
  ensureDaemon,
  probeStatus,
  REGISTRATION_WAIT_MS,
  registrationOf,
  stopDaemon,
} from '../../cli/daemon-launcher.js'
import { type DaemonSettings, daemonFlags, daemonSettings } from '../../cli/flags.js'
import { ErrorCode, P2PError } from '../../protocol/errors.js'
import type { StatusResult } from '../../protocol/rpc.js'

export type DaemonStartResult = StatusResult & { started: boolean; staleRemoved: string[] }

export default class DaemonStart extends BaseCommand {
  static override summary = 'Start your daemon in the background (harmless when it already runs)'
  static override description =
    `The first start of a profile needs --user: it creates the identity and remembers the user id and server; later starts need no flags. Returns once the daemon answers on its control socket and its first registration with the discovery server is done (at most ${REGISTRATION_WAIT_MS / 1000} s more): a server that refuses the user id (bound to another key) fails the start with exit 1 and the daemon is stopped; a server that does not answer is reported and retried, exit 0. Flags that differ from those of a daemon already running are refused (exit 2): stop it first. A socket or pid file left by a crashed daemon is cleaned up. The daemon's own output goes to daemon.out in the profile, its log to daemon.log.`
  static override examples = [
    '<%= config.bin %> daemon start --user alice',
    '<%= config.bin %> daemon start --user alice --port 7000 --server http://discovery.example:5000',
    '<%= config.bin %> daemon start',
    '<%= config.bin %> daemon start --foreground',
  ]
  static override flags = {
    ...daemonFlags(),
    foreground: Flags.boolean({ description: 'run in this terminal instead (like daemon run); Ctrl-C stops it' }),
  }

  async run(): Promise<DaemonStartResult | undefined> {
    const { flags } = await this.parse(DaemonStart)
    const settings = daemonSettings(flags)
    if (flags.foreground) {
      const running = await probeStatus(this.paths)
      if (running) return this.alreadyRunning({ ...running, started: false, staleRemoved: [] }, settings)
      // Only this path loads daemon code; the one-shot commands never do.
      const { runDaemon } = await import('../../daemon/main.js')
      this.exit(await runDaemon({ home: this.home, ...settings }))
      return undefined
    }
    const outcome = await ensureDaemon({ paths: this.paths, bin: join(this.config.root, 'bin', 'run.js'), ...settings })
    const result = { ...outcome.status, started: outcome.started, staleRemoved: outcome.staleRemoved }
    for (const path of result.staleRemoved) this.logToStderr(`removed ${path}, left by a daemon that is gone`)
    if (!result.started) return this.alreadyRunning(result, settings)
    return this.started(result)
  }

  /** A start is only done once the discovery server had its say: "started" must mean it works. */
  private async started(result: DaemonStartResult): Promise<DaemonStartResult> {
    const status = await awaitRegistration(this.paths)
    const registration = registrationOf(status)
    const reach = status.listen.host === 'off' ? 'no peer port (reachable through the relay only)' : `peer port ${status.listen.port}`
    const line = `daemon started for ${status.userId} (pid ${status.pid}), ${reach}, server ${status.server.url}`
    if (registration === 'refused') {
      await stopDaemon(this.paths, status)
      throw new P2PError(
        status.server.errorCode === ErrorCode.UserIdTaken ? ErrorCode.UserIdTaken : ErrorCode.Internal,
        `the discovery server ${status.server.url} refused ${status.userId}: ${status.server.error}; the daemon was stopped`,
      )
    }
    if (registration === 'registered') this.log(line)
    else if (registration === 'unreachable')
      this.log(`${line}; discovery server unreachable, retrying (p2p daemon status shows when it is back)`)
    else this.log(`${line}; not registered with the discovery server yet, still trying`)
    return { ...result, ...status }
  }

  private alreadyRunning(result: DaemonStartResult, settings: DaemonSettings): DaemonStartResult {
    assertSettingsMatch(settings, result)
    this.log(`daemon already running for ${result.userId} (pid ${result.pid}); nothing to do`)
    return result
  }
}
