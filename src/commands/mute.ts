import { durationFlag } from '../cli/flags.js'
import { PolicyCommand, policyArgs } from '../cli/policy-command.js'
import type { PolicyResult } from '../protocol/rpc.js'

export default class Mute extends PolicyCommand {
  static override summary = 'Mute a peer: their messages are kept but not shown in watch or chat (idempotent)'
  static override examples = [
    '<%= config.bin %> mute bob',
    '<%= config.bin %> mute bob --for 30m',
    '<%= config.bin %> mute bob --for 1h30m',
  ]
  static override args = policyArgs
  static override flags = {
    for: durationFlag({ description: 'mute for a while only: 90 (seconds), 45s, 30m, 2h, 7d, 1h30m' }),
  }

  async run(): Promise<PolicyResult> {
    const { args, flags } = await this.parse(Mute)
    return this.apply('mute', args.peer, flags.for !== undefined ? { for: flags.for } : {})
  }
}
