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
import { stdinLines } from './stdin-lines.js'
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

/** Pipelined: up to WINDOW sends in flight, results printed in input order. */
async function sendLines(client: DaemonClient, { to, timeout, quiet, json }: SendOptions, tally: SendTally): Promise<void> {
  if (process.stdin.isTTY) process.stderr.write(`type one message per line to ${to}; end with Ctrl-D\n`)
  const progress = progressLine(Boolean(process.stderr.isTTY && (quiet || !process.stdout.isTTY)))
  const inFlight: Array<Promise<SendResult>> = []
  const out = new LineOutput()
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
        const call = client.call('send', { to, text, timeout })
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
