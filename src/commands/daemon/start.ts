import { join } from 'node:path'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { ensureDaemon, probeStatus } from '../../cli/daemon-launcher.js'
import { daemonFlags, daemonSettings } from '../../cli/flags.js'
import { ErrorCode, P2PError } from '../../protocol/errors.js'
import type { StatusResult } from '../../protocol/rpc.js'
import { normalizeUserId } from '../../protocol/user-id.js'

export type DaemonStartResult = StatusResult & { started: boolean; staleRemoved: string[] }

export default class DaemonStart extends BaseCommand {
  static override summary = 'Start your daemon in the background (harmless when it already runs)'
  static override description =
    `The first start of a profile needs --user: it creates the identity and remembers the user id and server; later starts need no flags. Returns once the daemon answers on its control socket. A socket or pid file left by a crashed daemon is cleaned up. The daemon's own output goes to daemon.out in the profile, its log to daemon.log.`
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
      if (running) return this.report({ ...running, started: false, staleRemoved: [] }, flags.user)
      // Only this path loads daemon code; the one-shot commands never do.
      const { runDaemon } = await import('../../daemon/main.js')
      this.exit(await runDaemon({ home: this.home, ...settings }))
      return undefined
    }
    const outcome = await ensureDaemon({ paths: this.paths, bin: join(this.config.root, 'bin', 'run.js'), ...settings })
    return this.report({ ...outcome.status, started: outcome.started, staleRemoved: outcome.staleRemoved }, flags.user)
  }

  private report(result: DaemonStartResult, askedUser: string | undefined): DaemonStartResult {
    if (askedUser !== undefined && !result.started && normalizeUserId(askedUser) !== result.userId) {
      throw new P2PError(
        ErrorCode.Usage,
        `a daemon for ${result.userId} already runs in ${result.home}; use another --home for ${askedUser}`,
      )
    }
    for (const path of result.staleRemoved) this.logToStderr(`removed ${path}, left by a daemon that is gone`)
    this.log(
      result.started
        ? `daemon started for ${result.userId} (pid ${result.pid}), peer port ${result.listen.port}, server ${result.server.url}`
        : `daemon already running for ${result.userId} (pid ${result.pid}); nothing to do`,
    )
    return result
  }
}
