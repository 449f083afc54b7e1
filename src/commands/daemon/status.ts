import { BaseCommand } from '../../cli/base-command.js'
import { statusLines } from '../../cli/render.js'
import type { StatusResult } from '../../protocol/rpc.js'

export default class DaemonStatus extends BaseCommand {
  static override summary = 'Show whether your daemon runs, and how it is doing (exit 3 when it is not running)'
  static override examples = ['<%= config.bin %> daemon status', '<%= config.bin %> daemon status --json | jq .server.registered']

  async run(): Promise<StatusResult> {
    await this.parse(DaemonStatus)
    const status = await this.daemon.call('status')
    this.log(statusLines(status, this.colors))
    return status
  }

  protected override readonly reportsStatus = true
}
