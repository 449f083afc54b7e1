import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { trustOutcome } from '../cli/command-outcomes.js'
import { peerArg } from '../cli/flags.js'
import type { TrustResult } from '../protocol/rpc.js'

export default class Trust extends BaseCommand {
  static override summary = "Accept a peer's new key, after comparing fingerprints with them out of band"
  static override description =
    `When a peer's key changes (p2p peers shows KEY CHANGED), your daemon refuses their links and your messages to them until you decide. Ask them for their fingerprint (p2p daemon status on their side) by some other channel; if it matches the new one shown by p2p peers, run this. The key the discovery server binds to their name now becomes the pinned key (with --fingerprint, only the key with the fingerprint you compared), and messages still queued for them go to it.`
  static override examples = ['<%= config.bin %> trust bob', '<%= config.bin %> trust bob --fingerprint c69f-634c-289c-27a4-1df7']
  static override args = { peer: peerArg({ required: true }) }
  static override flags = {
    fingerprint: Flags.string({
      description: 'the fingerprint bob read to you: only a key with it is pinned (else nothing changes, exit 1)',
    }),
  }

  async run(): Promise<TrustResult> {
    const { args, flags } = await this.parse(Trust)
    const { result, text } = await trustOutcome(this.daemon, args.peer, flags.fingerprint)
    this.log(text)
    return result
  }
}
