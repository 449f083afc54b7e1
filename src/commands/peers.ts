import { BaseCommand } from '../cli/base-command.js'
import { peersOutcome } from '../cli/command-outcomes.js'
import type { PeerInfo } from '../protocol/rpc.js'

export default class Peers extends BaseCommand {
  static override summary = 'List every peer your daemon knows: discovered, talked to, blocked or muted'
  static override examples = ['<%= config.bin %> peers', '<%= config.bin %> peers --json']

  async run(): Promise<PeerInfo[]> {
    await this.parse(Peers)
    const { result, text } = await peersOutcome(this.daemon, this.colors)
    this.log(text)
    return result
  }
}
