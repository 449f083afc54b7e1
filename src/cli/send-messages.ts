/**
 * What `p2p msg` does, for both of its entry points (the oclif command and the bundled fast path,
 * which runs `seq 100000 | p2p msg bob` without oclif's start-up): one message from the words,
 * or one per line of stdin, pipelined.
 */
import { ErrorCode, P2PError } from '../protocol/errors.js'
import type { SendResult } from '../protocol/rpc.js'
import { sendOutcome } from './command-outcomes.js'
import type { DaemonClient } from './control-client.js'
import { LineOutput } from './line-output.js'
import { countSend, emptyTally, type SendTally, sendSummary } from './render.js'
import { stdinLineBatches } from './stdin-lines.js'
import { checkText } from './validate.js'

/** Sends in flight at once when reading stdin: enough to keep the daemon busy, bounded for memory. */
const WINDOW = 1024

export interface SendOptions {
  to: string
  /** The message's words; none: every line of stdin is a message. */
  words: readonly string[]
  timeout: number
  quiet: boolean
  json: boolean
}

/**
 * Sends and prints what `msg` prints as it goes; returns the JSON document printed at the end with
 * --json (the result of one message, or with --quiet the tally), if any. With --quiet and no
 * --json, the summary goes to stderr at the end, also after a failure once something was sent.
 */
export async function sendMessages(client: DaemonClient, options: SendOptions): Promise<SendResult | SendTally | undefined> {
  const { to, words, timeout, quiet, json } = options
  const tally = emptyTally()
  let failed = true
  try {
    if (words.length > 0) {
      const { result, text } = await sendOutcome(client, to, checkText(words.join(' ')), timeout)
      countSend(tally, result.status)
      if (!quiet && !json) process.stdout.write(`${text}\n`)
      failed = false
      return quiet ? tally : result
    }
    await sendLines(client, options, tally)
    failed = false
    return quiet ? tally : undefined
  } finally {
    if (quiet && !json && (tally.sent > 0 || !failed)) process.stderr.write(`${sendSummary(tally)}\n`)
  }
}

/**
 * Pipelined: up to WINDOW sends in flight, results printed in input order. Answers land in a ring
 * of WINDOW slots by callback; the loop waits only when the window is full (or for the first
 * answer), then prints every answer that is in, in order.
 */
async function sendLines(client: DaemonClient, { to, timeout, quiet, json }: SendOptions, tally: SendTally): Promise<void> {
  if (process.stdin.isTTY) process.stderr.write(`type one message per line to ${to}; end with Ctrl-D\n`)
  const progress = progressLine(Boolean(process.stderr.isTTY && (quiet || !process.stdout.isTTY)))
  const out = new LineOutput()
  const answers: Array<SendResult | { failed: Error } | undefined> = new Array(WINDOW)
  let sent = 0
  let reported = 0
  let wake: (() => void) | undefined
  const answered = (slot: number) => (error: Error | undefined, result?: SendResult) => {
    answers[slot] = error ? { failed: error } : result
    if (slot === reported % WINDOW) wake?.()
  }
  /** Prints the answers that are in, in order; throws the first failed send's error. */
  const reportReady = () => {
    for (let answer = answers[reported % WINDOW]; answer !== undefined; answer = answers[reported % WINDOW]) {
      answers[reported % WINDOW] = undefined
      reported++
      if ('failed' in answer) throw answer.failed
      countSend(tally, answer.status)
      progress(tally)
      if (!quiet) out.line(json ? JSON.stringify(answer) : answer.status)
      if (reported === sent) return
    }
  }
  /** Waits until the oldest answer not yet printed is in, then prints what is in. */
  const reportNext = async () => {
    if (answers[reported % WINDOW] === undefined) await new Promise<void>((resolve) => (wake = resolve))
    wake = undefined
    reportReady()
  }
  let inputError: unknown
  try {
    try {
      for await (const texts of stdinLineBatches(process.stdin)) {
        for (const text of texts) {
          client.request('send', { to, text, timeout }, answered(sent % WINDOW))
          sent++
          // The first message goes alone: a blocked or unknown peer then fails the command at once
          // instead of after a window full of doomed sends.
          if (sent === 1 || sent - reported >= WINDOW) await reportNext()
        }
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
    while (reported < sent) await reportNext()
  } finally {
    out.flush()
    progress(undefined)
  }
  if (inputError) throw inputError
  if (sent === 0) throw new P2PError(ErrorCode.Usage, 'no message: give TEXT, or pipe lines on stdin')
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
