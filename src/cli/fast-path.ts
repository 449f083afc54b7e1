/**
 * The commands scripts run most, `p2p msg PEER TEXT...` and `p2p daemon status`, without loading
 * @oclif/core: it is about half the start-up time of a one-shot command (BENCHMARKS.md, B3).
 * bin/run.js asks here first; anything this parser does not recognise exactly (help, stdin input,
 * an unknown flag, `--`, any other command) goes to oclif, which runs the same command the same way.
 * Output, JSON documents and exit codes are the oclif commands' own (shared render and report
 * modules), and the CLI tests run both paths.
 */
import { DEFAULT_SEND_TIMEOUT_S, MAX_SEND_TIMEOUT_S } from '../protocol/defaults.js'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { profilePaths, resolveHome } from '../protocol/profile.js'
import { ControlClient } from './control-client.js'
import { paletteFor } from './format.js'
import { statusLines } from './render.js'
import { notRespondingMessage, notRunningMessage, reportError, writeJson } from './report.js'
import { checkText, peerId } from './validate.js'

interface FastCommand {
  command: 'msg' | 'status'
  words: string[]
  json: boolean
  home?: string
  timeout?: number
}

/** Pure: the fast command `argv` asks for, or undefined when oclif should take it. */
export function parseFastCommand(argv: readonly string[]): FastCommand | undefined {
  const [first, second] = argv
  const command = first === 'msg' ? 'msg' : first === 'daemon' && second === 'status' ? 'status' : undefined
  if (!command) return undefined
  const parsed: FastCommand = { command, words: [], json: false }
  const rest = argv.slice(command === 'msg' ? 1 : 2)
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i] as string
    if (!token.startsWith('-')) {
      parsed.words.push(token)
      continue
    }
    const equals = token.indexOf('=')
    const flag = equals < 0 ? token : token.slice(0, equals)
    const value = equals < 0 ? () => rest[++i] : () => token.slice(equals + 1)
    if (flag === '--json' && equals < 0) {
      parsed.json = true
    } else if (flag === '--home') {
      const home = value()
      if (!home) return undefined
      parsed.home = home
    } else if (flag === '--timeout' && command === 'msg') {
      const seconds = value()
      if (seconds === undefined || !/^\d+$/.test(seconds) || Number(seconds) > MAX_SEND_TIMEOUT_S) return undefined
      parsed.timeout = Number(seconds)
    } else {
      return undefined
    }
  }
  // `msg` needs a peer and text here; with no text it reads stdin, which is oclif's msg.
  if (command === 'msg' ? parsed.words.length < 2 : parsed.words.length > 0) return undefined
  return parsed
}

/** Runs `argv` when it is a fast command; returns its exit code, or undefined to hand it to oclif. */
export async function runFastPath(argv: readonly string[]): Promise<number | undefined> {
  const parsed = parseFastCommand(argv)
  if (!parsed) return undefined
  const home = resolveHome(parsed.home)
  const homeGiven = parsed.home !== undefined
  const client = new ControlClient(profilePaths(home).socket, {
    notRunningMessage: notRunningMessage(home, homeGiven),
    notRespondingMessage: notRespondingMessage(home, homeGiven),
  })
  try {
    if (parsed.command === 'status') {
      const status = await client.call('status')
      if (parsed.json) writeJson(status)
      else process.stdout.write(`${statusLines(status, paletteFor(process.stdout))}\n`)
      return 0
    }
    const [rawPeer, ...words] = parsed.words
    const to = peerId(rawPeer as string)
    const result = await client.call('send', { to, text: checkText(words.join(' ')), timeout: parsed.timeout ?? DEFAULT_SEND_TIMEOUT_S })
    if (parsed.json) writeJson(result)
    else process.stdout.write(`${result.status}\n`)
    return 0
  } catch (error) {
    const { code, message } =
      error instanceof P2PError ? error : { code: ErrorCode.Internal, message: (error as Error)?.message ?? String(error) }
    return reportError(code, message, { json: parsed.json, statusDocument: parsed.command === 'status' })
  } finally {
    client.close()
  }
}
