import { Flags } from '@oclif/core'
import { PolicyCommand, peerArg } from '../cli/policy-command.js'
import { parseDurationSeconds } from '../protocol/duration.js'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import type { PolicyResult } from '../protocol/rpc.js'

export default class Mute extends PolicyCommand {
  static override summary = 'Mute a peer: their messages are kept but not shown in watch or chat (idempotent)'
  static override examples = [
    '<%= config.bin %> mute bob',
    '<%= config.bin %> mute bob --for 30m',
    '<%= config.bin %> mute bob --for 1h30m',
  ]
  static override args = { peer: peerArg }
  static override flags = {
    for: Flags.string({ description: 'mute for a while only: 90 (seconds), 45s, 30m, 2h, 7d, 1h30m' }),
  }

  async run(): Promise<PolicyResult> {
    const { args, flags } = await this.parse(Mute)
    if (flags.for === undefined) return this.apply('mute', args.peer)
    const seconds = parseDurationSeconds(flags.for)
    if (seconds === undefined) throw new P2PError(ErrorCode.Usage, `--for "${flags.for}" is not a duration such as 30m, 2h or 90 (seconds)`)
    return this.apply('mute', args.peer, { for: seconds })
  }
}
