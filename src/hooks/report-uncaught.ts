/**
 * The last word of bin/run.js: whatever oclif itself throws outside a p2p command's own catch()
 * (a plugin command's unknown flag, `p2p help nosuch`, a failed plugin load) is reported the way
 * every p2p failure is, `p2p: message` on stderr or `{"error":{code,message}}` with --json, with
 * the documented exit code (2 for usage), instead of oclif's "›   Error:" dump and its help text.
 * Not an oclif hook (oclif has none for errors): bin/run.js calls it around `run()`.
 */
import { Errors } from '@oclif/core'
import { describeError } from '../cli/base-command.js'
import { reportError } from '../cli/report.js'

/** Reports `err` and returns the exit code. */
export function reportUncaught(err: unknown, argv: readonly string[]): number {
  const exit = (err as { oclif?: { exit?: number } } | undefined)?.oclif?.exit
  // `this.exit(n)`, or an error a command reported itself: a decision, already told.
  if (err instanceof Errors.ExitError || (err as { skipOclifErrorHandling?: boolean } | undefined)?.skipOclifErrorHandling) {
    return exit ?? 1
  }
  const { code, message } = describeError(err)
  return reportError(code, message, { json: argv.includes('--json') })
}
