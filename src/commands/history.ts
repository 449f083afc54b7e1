import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { historyOutcome } from '../cli/command-outcomes.js'
import { peerArg } from '../cli/flags.js'
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from '../protocol/defaults.js'
import type { HistoryEntry } from '../protocol/rpc.js'

export default class History extends BaseCommand {
  static override summary = 'Show the stored conversation, oldest first (all peers, or one)'
  static override examples = [
    '<%= config.bin %> history',
    '<%= config.bin %> history bob --limit 200',
    '<%= config.bin %> history bob --include-muted --json',
  ]
  static override args = { peer: peerArg({ description: 'only the conversation with this peer' }) }
  static override flags = {
    limit: Flags.integer({ description: 'the newest N messages', default: DEFAULT_HISTORY_LIMIT, min: 1, max: MAX_HISTORY_LIMIT }),
    'include-muted': Flags.boolean({ description: 'also show messages received while the sender was muted' }),
  }

  async run(): Promise<HistoryEntry[]> {
    const { args, flags } = await this.parse(History)
    const query = { ...(args.peer !== undefined ? { peer: args.peer } : {}), limit: flags.limit, includeMuted: flags['include-muted'] }
    const { result, text } = await historyOutcome(this.daemon, query, this.colors)
    this.log(text)
    return result
  }
}
