import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import {
  cleanStale,
  FORCE_STOP_GRACE_MS,
  forceStop,
  isProcessAlive,
  looksLikeDaemon,
  probeStatus,
  stopDaemon,
} from '../../cli/daemon-launcher.js'
import { readPidFile } from '../../cli/report.js'
import { ErrorCode, P2PError } from '../../protocol/errors.js'
import type { StatusResult } from '../../protocol/rpc.js'

export interface DaemonStopResult {
  stopped: boolean
  wasRunning: boolean
  pid?: number
  /** With --force: whether SIGTERM was enough or it took SIGKILL. */
  how?: 'terminated' | 'killed'
}

export default class DaemonStop extends BaseCommand {
  static override summary = 'Stop your daemon (unregisters, closes links, flushes); exit 0 also when it was not running'
  static override description =
    `With --force, for a daemon that does not answer (frozen, hung): SIGTERM to the pid in the profile's pid file, SIGKILL after ${FORCE_STOP_GRACE_MS / 1000} s if it is still there, then its socket and pid file are removed.`
  static override examples = [
    '<%= config.bin %> daemon stop',
    '<%= config.bin %> daemon stop --home /tmp/bob',
    '<%= config.bin %> daemon stop --force',
  ]
  static override flags = {
    force: Flags.boolean({ description: `SIGTERM, then SIGKILL after ${FORCE_STOP_GRACE_MS / 1000} s; for a daemon that does not answer` }),
  }

  async run(): Promise<DaemonStopResult> {
    const { flags } = await this.parse(DaemonStop)
    let status: StatusResult | undefined
    try {
      status = await probeStatus(this.paths)
    } catch (error) {
      // Not answering is what --force is for.
      if (!(flags.force && error instanceof P2PError && error.code === ErrorCode.DaemonNotResponding)) throw error
    }
    if (flags.force) return this.forceStop(status)
    if (!status) return this.notRunning()
    await stopDaemon(this.paths, status)
    this.log(`daemon for ${status.userId} stopped (pid ${status.pid})`)
    return { stopped: true, wasRunning: true, pid: status.pid }
  }

  private async forceStop(status: StatusResult | undefined): Promise<DaemonStopResult> {
    const pid = status?.pid ?? readPidFile(this.paths.pid)
    if (pid !== undefined && !isProcessAlive(pid)) cleanStale(this.paths)
    if (pid === undefined || !isProcessAlive(pid) || (!status && !looksLikeDaemon(pid))) return this.notRunning()
    const how = await forceStop(this.paths, pid)
    const who = status ? `daemon for ${status.userId}` : 'daemon'
    this.log(
      `${who} ${how === 'killed' ? 'killed' : 'stopped'} (pid ${pid}${how === 'killed' ? `, still there ${FORCE_STOP_GRACE_MS / 1000} s after SIGTERM` : ''})`,
    )
    return { stopped: true, wasRunning: true, pid, how }
  }

  private notRunning(): DaemonStopResult {
    // Leftovers of a crashed daemon are cleaned by the next `daemon start`, the one place that does it.
    this.log('daemon was not running; nothing to stop')
    return { stopped: false, wasRunning: false }
  }
}
