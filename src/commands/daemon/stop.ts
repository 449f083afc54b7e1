import { BaseCommand } from '../../cli/base-command.js'
import { probeStatus, stopDaemon } from '../../cli/daemon-launcher.js'

export interface DaemonStopResult {
  stopped: boolean
  wasRunning: boolean
  pid?: number
}

export default class DaemonStop extends BaseCommand {
  static override summary = 'Stop your daemon (unregisters, closes links, flushes); exit 0 also when it was not running'
  static override examples = ['<%= config.bin %> daemon stop', '<%= config.bin %> daemon stop --home /tmp/bob']

  async run(): Promise<DaemonStopResult> {
    await this.parse(DaemonStop)
    const status = await probeStatus(this.paths)
    if (!status) {
      // Leftovers of a crashed daemon are cleaned by the next `daemon start`, the one place that does it.
      this.log('daemon was not running; nothing to stop')
      return { stopped: false, wasRunning: false }
    }
    await stopDaemon(this.paths, status)
    this.log(`daemon for ${status.userId} stopped (pid ${status.pid})`)
    return { stopped: true, wasRunning: true, pid: status.pid }
  }
}
