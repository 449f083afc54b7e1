import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { peerArg } from '../cli/flags.js'
import type { SendTally } from '../cli/render.js'
import { sendMessages } from '../cli/send-messages.js'
import { DEFAULT_SEND_TIMEOUT_S, MAX_SEND_TIMEOUT_S } from '../protocol/defaults.js'
import type { SendResult } from '../protocol/rpc.js'

export default class Msg extends BaseCommand {
  static override summary = 'Send a message; with no TEXT, every line of stdin is one message'
  static override description =
    `Prints "delivered" when the peer's daemon acknowledged the message, "mailbox" when the peer stayed unreachable and the message waits, sealed to the peer's key, in the peer's mailbox at the discovery server (the peer gets it when it comes online, even if you are offline by then), "queued" when the peer is not reachable now (your daemon keeps it and delivers it later, across restarts).

With stdin, lines are sent in order as they are read and one status line (JSON: one {id,to,status} line) is printed per message, in input order. Blank lines are skipped. A line over 64 KiB or one that is not UTF-8 stops the command with exit 2: the lines before it have been sent (and are reported), that line and everything after it are not.

With --quiet, no line per message: at the end one summary line on stderr, "sent N: D delivered, Q queued, F failed" (with --json, one {sent,delivered,queued,failed} document on stdout). While reading stdin into a pipe or with --quiet, a terminal on stderr shows a progress line.`
  static override examples = [
    '<%= config.bin %> msg bob hello there',
    '<%= config.bin %> msg bob "see you at 5" --timeout 30',
    'seq 100 | <%= config.bin %> msg bob',
    'tail -f app.log | <%= config.bin %> msg bob --quiet',
    '<%= config.bin %> msg bob --json < notes.txt',
  ]
  static override usage = 'msg PEER [TEXT...] [--timeout <value>] [--quiet] [--json] [--home <value>]'
  static override strict = false
  static override args = {
    peer: peerArg({ required: true, description: 'user id of the recipient' }),
    text: Args.string({ ignoreStdin: true, description: 'the message (words are joined by spaces); omit to read lines from stdin' }),
  }
  static override flags = {
    timeout: Flags.integer({
      description: "seconds to wait for the peer's acknowledgement before answering queued",
      default: DEFAULT_SEND_TIMEOUT_S,
      min: 0,
      max: MAX_SEND_TIMEOUT_S,
    }),
    quiet: Flags.boolean({
      char: 'q',
      description: 'no status line per message; one summary at the end (stderr; with --json a document on stdout)',
    }),
  }

  async run(): Promise<SendResult | SendTally | undefined> {
    const { args, argv, flags } = await this.parse(Msg)
    // Not strict: argv is the peer, then every word of the text.
    const words = (argv as string[]).slice(1)
    return sendMessages(this.daemon, { to: args.peer, words, timeout: flags.timeout, quiet: flags.quiet, json: this.jsonEnabled() })
  }
}
