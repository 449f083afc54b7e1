import { BaseCommand } from '../cli/base-command.js'
import { peersTable } from '../cli/render.js'
import type { PeerInfo } from '../protocol/rpc.js'

export default class Discover extends BaseCommand {
  static override summary = 'Ask the discovery server now who is online (everyone but you)'
  static override examples = ['<%= config.bin %> discover', '<%= config.bin %> discover --json | jq -r ".[].userId"']

  async run(): Promise<PeerInfo[]> {
    await this.parse(Discover)
    const peers = await this.daemon.call('discover')
    this.log(peersTable(peers, this.colors, 'nobody else is online'))
    return peers
  }
}
