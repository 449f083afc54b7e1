import { BaseCommand } from '../cli/base-command.js'
import { peersTable } from '../cli/render.js'
import type { PeerInfo } from '../protocol/rpc.js'

export default class Peers extends BaseCommand {
  static override summary = 'List every peer your daemon knows: discovered, talked to, blocked or muted'
  static override examples = ['<%= config.bin %> peers', '<%= config.bin %> peers --json']

  async run(): Promise<PeerInfo[]> {
    await this.parse(Peers)
    const peers = await this.daemon.call('peers')
    this.log(peersTable(peers, this.colors, 'no known peers yet (try p2p discover)'))
    return peers
  }
}
