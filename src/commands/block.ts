import { PolicyCommand, policyArgs } from '../cli/policy-command.js'
import type { PolicyResult } from '../protocol/rpc.js'

export default class Block extends PolicyCommand {
  static override summary = 'Block a peer: nothing of theirs is received, and you cannot send to them (idempotent)'
  static override examples = ['<%= config.bin %> block mallory', '<%= config.bin %> block mallory --json']
  static override args = policyArgs

  async run(): Promise<PolicyResult> {
    const { args } = await this.parse(Block)
    return this.apply('block', args.peer)
  }
}
