/**
 * block, unblock, mute and unmute differ only in their method and wording: one implementation,
 * four thin command files.
 */
import type { PolicyResult } from '../protocol/rpc.js'
import { BaseCommand } from './base-command.js'
import { policyOutcome } from './command-outcomes.js'
import { peerArg } from './flags.js'
import type { PolicyMethod } from './render.js'

/** Each command declares it itself: oclif reads a command's own static args, not inherited ones. */
export const policyArgs = { peer: peerArg({ required: true }) }

export abstract class PolicyCommand extends BaseCommand {
  protected async apply(method: PolicyMethod, peer: string, extra: { for?: number } = {}): Promise<PolicyResult> {
    const { result, text } = await policyOutcome(this.daemon, method, peer, extra)
    this.log(text)
    return result
  }
}
