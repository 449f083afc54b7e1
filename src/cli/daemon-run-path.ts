/**
 * `p2p daemon run` without oclif. The daemon runs all day, and @oclif/core, loaded only to parse
 * five flags, stayed in its memory: about 8 MB of an idle daemon's RSS (BENCHMARKS.md, B9).
 * bin/run.js asks this first for `daemon run ...`; a command line this parser does not take
 * exactly (help, an unknown or repeated flag, a value oclif would refuse) goes to oclif, which runs
 * src/commands/daemon/run.ts and words the error. The flags and what a failure prints (`p2p:
 * message` on stderr, or `{"error":{code,message}}` on stdout with --json) and its exit code are the
 * oclif command's; the CLI tests run both paths on the same command lines.
 */
import { isListenValue, parseAdvertise } from '../protocol/advertise.js'
import { resolveHome } from '../protocol/profile.js'
import { checkServerUrl } from '../protocol/server-url.js'
import { daemonSettings } from './daemon-settings.js'
import { type ExactArgv, type ExactSpec, parseExactArgv } from './exact-argv.js'
import { describeFailure, reportError } from './report.js'

/** What DAEMON_RUN parses the flags to. */
type DaemonRunFlags = { user?: string; port?: number; server?: string; listen?: string; advertise?: string }

/** Undefined where the oclif flag's parser (flags.ts) throws. */
const checked = (check: (raw: string) => boolean) => ({ kind: 'checked', check: (raw: string) => (check(raw) ? raw : undefined) }) as const

/** `daemonFlags()` of flags.ts, as the exact parser reads them. */
const DAEMON_RUN: ExactSpec = {
  args: [0, 0],
  flags: {
    user: { kind: 'string' },
    port: { kind: 'integer', min: 0, max: 65535 },
    server: checked((raw) => raw === '' || isServerUrl(raw)),
    listen: checked((raw) => raw === '' || isListenValue(raw)),
    advertise: checked((raw) => raw === '' || parseAdvertise(raw) !== undefined),
  },
  // oclif takes `--flag ''` as given for string flags; '' forgets a remembered --listen or --advertise.
  emptyAllowed: ['user', 'server', 'listen', 'advertise'],
}

function isServerUrl(raw: string): boolean {
  try {
    checkServerUrl(raw)
    return true
  } catch {
    return false
  }
}

/** Pure: the flags of `daemon run` (the argv after those two words), or undefined when oclif should take them. */
export function parseDaemonRun(rest: readonly string[]): ExactArgv | undefined {
  return parseExactArgv(rest, DAEMON_RUN)
}

/** Runs the daemon when `rest` parses; resolves with its exit code, or undefined to hand the command line to oclif. */
export async function runDaemonPath(rest: readonly string[]): Promise<number | undefined> {
  const parsed = parseDaemonRun(rest)
  if (!parsed) return undefined
  let code: number
  try {
    // Loaded only now: a command line oclif takes never loads the daemon's modules here.
    const { runDaemon } = await import('../daemon/main.js')
    code = await runDaemon({ home: resolveHome(parsed.home), ...daemonSettings(parsed.flags as DaemonRunFlags) })
  } catch (error) {
    const { code: errorCode, message } = describeFailure(error)
    code = reportError(errorCode, message, { json: parsed.json })
  }
  // As the oclif command ends (base-command.ts): let output finish, but never hang on a handle.
  setTimeout(() => process.exit(), 2000).unref()
  return code
}
