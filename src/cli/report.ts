/**
 * How a command's outcome reaches the user, shared by the oclif commands (base-command.ts) and the
 * fast path (fast-path.ts): one JSON document, or a one-line error on stderr, and the exit code.
 * Light on purpose: the fast path must not load @oclif/core.
 */
import { existsSync, readFileSync } from 'node:fs'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { profilePaths } from '../protocol/profile.js'
import { exitCodeFor } from './exit-codes.js'
import { sanitize } from './format.js'

/** One JSON document on stdout; compact for programs, indented for a person at a terminal. */
export function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, process.stdout.isTTY ? 2 : undefined)}\n`)
}

/**
 * Prints a failure the documented way and returns its exit code: with --json exactly
 * `{"error":{code,message}}` on stdout (for `daemon status`, "not running" is a status document:
 * `{running:false, error}`), otherwise `p2p: message` on stderr.
 */
export function reportError(code: string, message: string, options: { json: boolean; statusDocument?: boolean }): number {
  if (options.json) {
    const document = { error: { code, message } }
    writeJson(options.statusDocument && code === ErrorCode.DaemonNotRunning ? { running: false, ...document } : document)
  } else {
    // The message can quote a discovery server or a peer: never let it drive the terminal.
    process.stderr.write(`p2p: ${sanitize(message)}\n`)
  }
  return exitCodeFor(code)
}

/** The stable code and message of a failure that is not oclif's own (base-command.ts words those). */
export function describeFailure(err: unknown): { code: string; message: string } {
  if (err instanceof P2PError) return { code: err.code, message: err.message }
  const message = err instanceof Error ? err.message : String(err)
  return { code: ErrorCode.Internal, message: message || 'unexpected error' }
}

/** "The daemon is not running" always says how to start it (with --user only when the profile is new). */
export function notRunningMessage(home: string, homeGiven: boolean): string {
  const user = existsSync(profilePaths(home).identity) ? '' : ' --user ID'
  return `the p2p daemon is not running (profile ${home}); start it with: p2p daemon start${user}${homeGiven ? ` --home ${home}` : ''}`
}

/** A daemon that is connected but silent (SIGSTOP, hung): name it and say how to end it. */
export function notRespondingMessage(home: string, homeGiven: boolean): (seconds: number) => string {
  return (seconds) => {
    const pid = readPidFile(profilePaths(home).pid)
    const who = pid === undefined ? `the p2p daemon of profile ${home}` : `the p2p daemon at pid ${pid}`
    return `${who} does not answer (nothing in ${seconds} s); if it is stuck, end it with: p2p daemon stop --force${homeGiven ? ` --home ${home}` : ''}`
  }
}

/** The pid a daemon wrote to its pid file, or undefined (no file, or not a pid). */
export function readPidFile(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}
