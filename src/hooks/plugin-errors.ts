/**
 * prerun: a command that keeps oclif's default catch() (the plugins' `help`, `version`,
 * `autocomplete`; every p2p command has its own, base-command.ts) rethrows instead, so that its
 * failure reaches bin/run.js and is reported like any p2p failure (hooks/report-uncaught.ts). The
 * default would print, under --json, oclif's own error object and exit 1 even for a usage error.
 */
import { Command, type Hook } from '@oclif/core'

// catch() is protected; the hook reaches it from outside the class.
type Catching = { catch(err: Error): Promise<unknown> }

const hook: Hook.Prerun = async ({ Command: command }) => {
  const prototype = command.prototype as unknown as Catching
  if (prototype.catch !== (Command.prototype as unknown as Catching).catch) return
  prototype.catch = async (err: Error) => {
    throw err
  }
}

export default hook
