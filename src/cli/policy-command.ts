/**
 * block, unblock, mute and unmute differ only in their method and wording: one implementation,
 * four thin command files.
 */
import { Args } from '@oclif/core'
import type { PolicyResult } from '../protocol/rpc.js'
import { BaseCommand } from './base-command.js'
import { type PolicyMethod, policyLine } from './render.js'
import { peerId } from './validate.js'

// ignoreStdin: oclif would otherwise read a missing argument from piped stdin.
export const peerArg = Args.string({ ignoreStdin: true, name: 'peer', required: true, description: 'user id of the peer' })

export abstract class PolicyCommand extends BaseCommand {
  protected async apply(method: PolicyMethod, rawPeer: string, extra: Record<string, unknown> = {}): Promise<PolicyResult> {
    const result = await this.daemon.call(method, { peer: peerId(rawPeer), ...extra })
    this.log(policyLine(method, result))
    return result
  }
}
