import { PolicyCommand, policyArgs } from '../cli/policy-command.js'
import type { PolicyResult } from '../protocol/rpc.js'

export default class Unblock extends PolicyCommand {
  static override summary = 'Unblock a peer (idempotent); messages queued for them go out again'
  static override examples = ['<%= config.bin %> unblock mallory']
  static override args = policyArgs

  async run(): Promise<PolicyResult> {
    const { args } = await this.parse(Unblock)
    return this.apply('unblock', args.peer)
  }
}
