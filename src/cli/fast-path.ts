/**
 * The one-shot commands scripts run most (`msg PEER TEXT...`, `seq 100000 | p2p msg bob`, `daemon status`, `peers`, `history`,
 * `block`...) without loading @oclif/core: it is about half the start-up time of a one-shot command
 * (BENCHMARKS.md, B3). The build bundles this file with what it imports into one file
 * (scripts/bundle-fast-path.js), which bin/run.js asks first; anything this parser does not
 * recognise exactly (help, an unknown or repeated flag, a short flag, `--flag=` on a
 * boolean, `--`, any other command) goes to oclif, which runs the same command the same way.
 * Output, JSON documents and exit codes are the oclif commands' own (command-outcomes.ts and the
 * report module), and the CLI tests run both paths on the same inputs.
 */
import { DEFAULT_HISTORY_LIMIT, DEFAULT_SEND_TIMEOUT_S, MAX_HISTORY_LIMIT, MAX_SEND_TIMEOUT_S } from '../protocol/defaults.js'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { type ProfilePaths, profilePaths, resolveHome } from '../protocol/profile.js'
import {
  discoverOutcome,
  historyOutcome,
  type Outcome,
  peersOutcome,
  policyOutcome,
  statusOutcome,
  trustOutcome,
} from './command-outcomes.js'
import { ControlClient } from './control-client.js'
import { stopOutcome } from './daemon-stop.js'
import { BOOLEAN, type ExactArgv, type ExactSpec, parseExactArgv } from './exact-argv.js'
import { paletteFor } from './format.js'
import { notRespondingMessage, notRunningMessage, reportError, writeJson } from './report.js'
import { sendMessages } from './send-messages.js'
import { peerId } from './validate.js'

const ONE_PEER: ExactSpec = { args: [1, 1], flags: {} }
const NO_ARGS: ExactSpec = { args: [0, 0], flags: {} }

/** The commands the fast path runs, by their words; each mirrors its oclif command in src/commands. */
const FAST_COMMANDS = {
  msg: { args: [1, Number.POSITIVE_INFINITY], flags: { timeout: { kind: 'integer', min: 0, max: MAX_SEND_TIMEOUT_S }, quiet: BOOLEAN } },
  'daemon status': { args: [0, 0], flags: { verbose: BOOLEAN } },
  'daemon stop': { args: [0, 0], flags: { force: BOOLEAN } },
  peers: NO_ARGS,
  discover: NO_ARGS,
  history: { args: [0, 1], flags: { limit: { kind: 'integer', min: 1, max: MAX_HISTORY_LIMIT }, 'include-muted': BOOLEAN } },
  block: ONE_PEER,
  unblock: ONE_PEER,
  mute: { args: [1, 1], flags: { for: { kind: 'duration' } } },
  unmute: ONE_PEER,
  trust: { args: [1, 1], flags: { fingerprint: { kind: 'string' } } },
} satisfies Record<string, ExactSpec>

export type FastCommandId = keyof typeof FAST_COMMANDS

export interface FastCommand extends ExactArgv {
  command: FastCommandId
}

const isFastCommand = (id: string): id is FastCommandId => Object.hasOwn(FAST_COMMANDS, id)

/** Pure: the fast command `argv` asks for, or undefined when oclif should take it. */
export function parseFastCommand(argv: readonly string[]): FastCommand | undefined {
  const [first = '', second = ''] = argv
  const command = isFastCommand(first) ? first : isFastCommand(`${first} ${second}`) ? (`${first} ${second}` as FastCommandId) : undefined
  if (!command) return undefined
  const parsed = parseExactArgv(argv.slice(command.split(' ').length), FAST_COMMANDS[command])
  return parsed && { command, ...parsed }
}

/** Runs `argv` when it is a fast command; returns its exit code, or undefined to hand it to oclif. */
export async function runFastPath(argv: readonly string[]): Promise<number | undefined> {
  const parsed = parseFastCommand(argv)
  if (!parsed) return undefined
  const home = resolveHome(parsed.home)
  const homeGiven = parsed.home !== undefined
  const paths = profilePaths(home)
  const client = new ControlClient(paths.socket, {
    notRunningMessage: notRunningMessage(home, homeGiven),
    notRespondingMessage: notRespondingMessage(home, homeGiven),
  })
  try {
    await runCommand(parsed, client, paths)
    return 0
  } catch (error) {
    const { code, message } =
      error instanceof P2PError ? error : { code: ErrorCode.Internal, message: (error as Error)?.message || String(error) }
    return reportError(code, message, { json: parsed.json, statusDocument: parsed.command === 'daemon status' })
  } finally {
    client.close()
  }
}

/** What the oclif command of the same name does, through the same functions, printed the same way. */
async function runCommand(parsed: FastCommand, client: ControlClient, paths: ProfilePaths): Promise<void> {
  const { command, args, flags, json } = parsed
  if (command === 'msg') {
    const timeout = (flags.timeout as number | undefined) ?? DEFAULT_SEND_TIMEOUT_S
    const options = { to: peerId(args[0] as string), words: args.slice(1), timeout, quiet: flags.quiet === true, json }
    const document = await sendMessages(client, options)
    if (document && json) writeJson(document)
    return
  }
  const { result, text } = await outcomeOf(command, args, flags, client, paths)
  if (json) writeJson(result)
  else process.stdout.write(`${text}\n`)
}

function outcomeOf(
  command: Exclude<FastCommandId, 'msg'>,
  args: string[],
  flags: FastCommand['flags'],
  client: ControlClient,
  paths: ProfilePaths,
): Promise<Outcome<unknown>> {
  const colors = paletteFor(process.stdout)
  const peer = () => peerId(args[0] as string)
  switch (command) {
    case 'daemon status':
      return statusOutcome(client, flags.verbose === true, colors)
    case 'daemon stop':
      return stopOutcome(paths, flags.force === true)
    case 'peers':
      return peersOutcome(client, colors)
    case 'discover':
      return discoverOutcome(client, colors)
    case 'history': {
      const query = {
        ...(args.length > 0 ? { peer: peer() } : {}),
        limit: (flags.limit as number | undefined) ?? DEFAULT_HISTORY_LIMIT,
        includeMuted: flags['include-muted'] === true,
      }
      return historyOutcome(client, query, colors)
    }
    case 'mute':
      return policyOutcome(client, 'mute', peer(), flags.for !== undefined ? { for: flags.for as number } : {})
    case 'block':
    case 'unblock':
    case 'unmute':
      return policyOutcome(client, command, peer())
    case 'trust':
      return trustOutcome(client, peer(), flags.fingerprint as string | undefined)
  }
}
