import { PolicyCommand, policyArgs } from '../cli/policy-command.js'
import type { PolicyResult } from '../protocol/rpc.js'

export default class Unmute extends PolicyCommand {
  static override summary = 'Unmute a peer (idempotent)'
  static override examples = ['<%= config.bin %> unmute bob']
  static override args = policyArgs

  async run(): Promise<PolicyResult> {
    const { args } = await this.parse(Unmute)
    return this.apply('unmute', args.peer)
  }
}
