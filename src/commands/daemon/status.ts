import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { statusOutcome } from '../../cli/command-outcomes.js'
import type { StatusResult } from '../../protocol/rpc.js'

export default class DaemonStatus extends BaseCommand {
  static override summary = 'Show whether your daemon runs, and how it is doing (exit 3 when it is not running)'
  static override examples = [
    '<%= config.bin %> daemon status',
    '<%= config.bin %> daemon status --json | jq .server.registered',
    '<%= config.bin %> daemon status --verbose',
  ]
  static override flags = {
    verbose: Flags.boolean({ char: 'v', description: "also the daemon's actors and the state of each, and each peer link's" }),
  }

  async run(): Promise<StatusResult> {
    const { flags } = await this.parse(DaemonStatus)
    const { result, text } = await statusOutcome(this.daemon, flags.verbose, this.colors)
    this.log(text)
    return result
  }

  protected override readonly reportsStatus = true
}
