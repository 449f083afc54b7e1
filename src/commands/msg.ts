import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { sendOutcome } from '../cli/command-outcomes.js'
import { peerArg } from '../cli/flags.js'
import { LineOutput } from '../cli/line-output.js'
import { countSend, emptyTally, type SendTally, sendSummary } from '../cli/render.js'
import { stdinLines } from '../cli/stdin-lines.js'
import { checkText } from '../cli/validate.js'
import { DEFAULT_SEND_TIMEOUT_S, MAX_SEND_TIMEOUT_S } from '../protocol/defaults.js'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import type { SendResult } from '../protocol/rpc.js'

/** Sends in flight at once when reading stdin: enough to keep the daemon busy, bounded for memory. */
const WINDOW = 1024

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
    const to = args.peer
    // Not strict: argv is the peer, then every word of the text.
    const words = (argv as string[]).slice(1)
    const tally = emptyTally()
    let failed = true
    try {
      if (words.length > 0) {
        const { result, text } = await sendOutcome(this.daemon, to, checkText(words.join(' ')), flags.timeout)
        countSend(tally, result.status)
        if (!flags.quiet) this.log(text)
        failed = false
        return flags.quiet ? tally : result
      }
      await this.sendLines(to, flags.timeout, flags.quiet, tally)
      failed = false
      return flags.quiet ? tally : undefined
    } finally {
      // Also after a failure once something was sent: the summary says what went out before it.
      if (flags.quiet && !this.jsonEnabled() && (tally.sent > 0 || !failed)) this.logToStderr(sendSummary(tally))
    }
  }

  /** Pipelined: up to WINDOW sends in flight, results printed in input order. */
  private async sendLines(to: string, timeout: number, quiet: boolean, tally: SendTally): Promise<void> {
    if (process.stdin.isTTY) process.stderr.write(`type one message per line to ${to}; end with Ctrl-D\n`)
    const progress = progressLine(Boolean(process.stderr.isTTY && (quiet || !process.stdout.isTTY)))
    const inFlight: Array<Promise<SendResult>> = []
    const out = new LineOutput()
    const json = this.jsonEnabled()
    const report = (result: SendResult) => {
      countSend(tally, result.status)
      progress(tally)
      if (quiet) return
      out.line(json ? JSON.stringify(result) : result.status)
    }
    let read = 0
    let inputError: unknown
    try {
      try {
        for await (const text of stdinLines(process.stdin)) {
          const call = this.daemon.call('send', { to, text, timeout })
          call.catch(() => undefined) // reported in order below, not as an unhandled rejection
          inFlight.push(call)
          read++
          // The first message goes alone: a blocked or unknown peer then fails the command at once
          // instead of after a window full of doomed sends.
          if (read === 1 || inFlight.length >= WINDOW) report(await (inFlight.shift() as Promise<SendResult>))
        }
      } catch (error) {
        if (
          !(error instanceof P2PError) ||
          ![ErrorCode.EmptyMessage, ErrorCode.MessageTooLarge, ErrorCode.BadRequest].includes(error.code as never)
        ) {
          throw error
        }
        inputError = error
      }
      // What was sent is reported before any input error, so the output says exactly what went out.
      for (const call of inFlight) report(await call)
    } finally {
      out.flush()
      progress(undefined)
    }
    if (inputError) throw inputError
    if (read === 0) throw new P2PError(ErrorCode.Usage, 'no message: give TEXT, or pipe lines on stdin')
  }
}

/** A progress line on a terminal's stderr, redrawn at most every 200 ms; `undefined` clears it. */
function progressLine(enabled: boolean): (tally: SendTally | undefined) => void {
  let shown = 0
  let drawn = false
  return (tally) => {
    if (!enabled) return
    if (tally === undefined) {
      if (drawn) process.stderr.write('\r\x1b[K')
      return
    }
    const now = Date.now()
    if (now - shown < 200) return
    shown = now
    drawn = true
    process.stderr.write(`\r\x1b[K${sendSummary(tally)}`)
  }
}
