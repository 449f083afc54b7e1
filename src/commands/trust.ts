import { BaseCommand } from '../cli/base-command.js'
import { peerArg } from '../cli/flags.js'
import { trustLine } from '../cli/render.js'
import type { TrustResult } from '../protocol/rpc.js'

export default class Trust extends BaseCommand {
  static override summary = "Accept a peer's new key, after comparing fingerprints with them out of band"
  static override description =
    `When a peer's key changes (p2p peers shows KEY CHANGED), your daemon refuses their links and your messages to them until you decide. Ask them for their fingerprint (p2p daemon status on their side) by some other channel; if it matches the new one shown by p2p peers, run this. The key the discovery server binds to their name now becomes the pinned key, and messages still queued for them go to it.`
  static override examples = ['<%= config.bin %> trust bob']
  static override args = { peer: peerArg({ required: true }) }

  async run(): Promise<TrustResult> {
    const { args } = await this.parse(Trust)
    const result = await this.daemon.call('trust', { peer: args.peer })
    this.log(trustLine(result))
    return result
  }
}
