import { BaseCommand } from '../cli/base-command.js'
import { discoverOutcome } from '../cli/command-outcomes.js'
import type { PeerInfo } from '../protocol/rpc.js'

export default class Discover extends BaseCommand {
  static override summary = 'Ask the discovery server now who is online (everyone but you)'
  static override examples = ['<%= config.bin %> discover', '<%= config.bin %> discover --json | jq -r ".[].userId"']

  async run(): Promise<PeerInfo[]> {
    await this.parse(Discover)
    const { result, text } = await discoverOutcome(this.daemon, this.colors)
    this.log(text)
    return result
  }
}
