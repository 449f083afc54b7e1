import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { FORCE_STOP_GRACE_MS } from '../../cli/daemon-launcher.js'
import { type DaemonStopResult, stopOutcome } from '../../cli/daemon-stop.js'

export type { DaemonStopResult } from '../../cli/daemon-stop.js'

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
    const { result, text } = await stopOutcome(this.paths, flags.force)
    this.log(text)
    return result
  }
}
