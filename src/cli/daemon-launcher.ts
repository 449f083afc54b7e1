/**
 * Starting and probing the daemon from the CLI: `daemon start`, `daemon stop` and `chat --user`
 * share this so that "start" means the same thing everywhere. The daemon itself is
 * `p2p daemon run`, spawned detached with its output going to a file in the profile.
 */
import { spawn } from 'node:child_process'
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, unlinkSync } from 'node:fs'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { type ProfilePaths, resolveHome } from '../protocol/profile.js'
import type { StatusResult } from '../protocol/rpc.js'
import { sameServerUrl } from '../protocol/server-url.js'
import { normalizeUserId } from '../protocol/user-id.js'
import { ControlClient, callOnce } from './control-client.js'
import { type DaemonSettings, daemonSettingsArgs } from './daemon-settings.js'
import { notRespondingMessage, readPidFile } from './report.js'

/** How long a start may take before we give up on it (first start creates keys and a database). */
const START_TIMEOUT_MS = 20_000
const POLL_MS = 50

/**
 * The running daemon's status, or undefined when nothing answers on the socket. A daemon that
 * accepts the connection but stays silent for `timeoutMs` fails with daemon_not_responding.
 */
export async function probeStatus(paths: ProfilePaths, timeoutMs?: number): Promise<StatusResult | undefined> {
  const client = new ControlClient(paths.socket, {
    notRunningMessage: 'not running',
    // --home in the hint only when this is not the profile the user gets without it.
    notRespondingMessage: notRespondingMessage(paths.home, paths.home !== resolveHome()),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  })
  try {
    return await client.call('status')
  } catch (error) {
    if (error instanceof P2PError && error.code === ErrorCode.DaemonNotRunning) return undefined
    throw error
  } finally {
    client.close()
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  // A zombie (exited, not yet reaped by a parent that never waits) is gone for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true
  }
}

/**
 * Removes what a crashed daemon left behind. Only call it after a probe found nothing answering:
 * a socket file that refuses connections and a pid file naming a dead process are stale.
 */
export function cleanStale(paths: ProfilePaths): string[] {
  const removed: string[] = []
  if (existsSync(paths.socket)) {
    unlinkQuietly(paths.socket)
    removed.push(paths.socket)
  }
  const pid = readPidFile(paths.pid)
  if (existsSync(paths.pid) && (pid === undefined || !isProcessAlive(pid))) {
    unlinkQuietly(paths.pid)
    removed.push(paths.pid)
  }
  return removed
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Someone else cleaned it.
  }
}

export interface StartOptions extends DaemonSettings {
  paths: ProfilePaths
  /** bin/run.js of this installation. */
  bin: string
}

export interface StartOutcome {
  started: boolean
  status: StatusResult
  staleRemoved: string[]
}

/** Starts the daemon detached unless one already answers; resolves once it answers `status`. */
export async function ensureDaemon(options: StartOptions): Promise<StartOutcome> {
  const { paths } = options
  const running = await probeStatus(paths)
  if (running) return { started: false, status: running, staleRemoved: [] }
  const staleRemoved = cleanStale(paths)

  mkdirSync(paths.home, { recursive: true, mode: 0o700 })
  const outPath = paths.daemonOut
  const out = openSync(outPath, 'a', 0o600)
  const offset = fstatSync(out).size
  // --json makes a failed start leave its {"error":{code,message}} as the last line of the output file.
  const args = [options.bin, 'daemon', 'run', '--json', '--home', paths.home, ...daemonSettingsArgs(options)]
  const child = spawn(process.execPath, args, { cwd: paths.home, detached: true, stdio: ['ignore', out, out], env: process.env })
  closeSync(out)
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  let spawnError: Error | undefined
  child.once('exit', (code, signal) => {
    exit = { code, signal }
  })
  child.once('error', (error) => {
    spawnError = error
  })
  try {
    const deadline = Date.now() + START_TIMEOUT_MS
    for (;;) {
      if (spawnError) throw new P2PError(ErrorCode.Internal, `cannot start the daemon: ${spawnError.message}`)
      const status = await probeStatus(paths, 2000).catch(() => undefined)
      if (status) return { started: status.pid === child.pid, status, staleRemoved }
      if (exit) {
        // Two starts at once: the other one won, and that is fine.
        const other = await probeStatus(paths).catch(() => undefined)
        if (other) return { started: false, status: other, staleRemoved }
        throw startFailure(outPath, offset, exit)
      }
      if (Date.now() > deadline) {
        throw new P2PError(
          ErrorCode.Internal,
          `the daemon did not answer within ${START_TIMEOUT_MS / 1000} s; see ${outPath} and ${paths.log}`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  } finally {
    child.unref()
  }
}

/** The daemon's own reason for exiting: its JSON error line if it wrote one, else its last words. */
function startFailure(outPath: string, offset: number, exit: { code: number | null; signal: NodeJS.Signals | null }): P2PError {
  const text = readFrom(outPath, offset)
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  for (const line of [...lines].reverse()) {
    if (!line.startsWith('{"error"')) continue
    try {
      const { error } = JSON.parse(line) as { error: { code: string; message: string } }
      return new P2PError(error.code as ErrorCode, `the daemon did not start: ${error.message}`)
    } catch {
      // Not the line we are looking for.
    }
  }
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`
  const last = lines.slice(-3).join(' | ')
  return new P2PError(ErrorCode.Internal, `the daemon ${how} while starting${last ? `: ${last}` : ''} (output in ${outPath})`)
}

function readFrom(path: string, offset: number): string {
  const fd = openSync(path, 'r')
  try {
    const size = fstatSync(fd).size
    const start = Math.max(offset, size - 64 * 1024)
    const buffer = Buffer.alloc(Math.max(0, size - start))
    readSync(fd, buffer, 0, buffer.length, start)
    return buffer.toString('utf8')
  } finally {
    closeSync(fd)
  }
}

/** Asks the daemon to shut down and waits until its process is gone. */
export async function stopDaemon(paths: ProfilePaths, status: StatusResult, timeoutMs = 15_000): Promise<void> {
  await callOnce(paths.socket, 'shutdown').catch((error: unknown) => {
    // It went away between the probe and the request: that is what we wanted.
    if (!(error instanceof P2PError)) throw error
  })
  if (!(await waitForExit(status.pid, timeoutMs))) {
    throw new P2PError(
      ErrorCode.Internal,
      `the daemon (pid ${status.pid}) did not stop within ${timeoutMs / 1000} s; end it with: p2p daemon stop --force`,
    )
  }
}

/** How long `daemon stop --force` lets SIGTERM work (a clean shutdown) before SIGKILL. */
export const FORCE_STOP_GRACE_MS = 5000

/**
 * `daemon stop --force`: SIGTERM, then SIGKILL if the process is still there after `graceMs`
 * (a daemon frozen by SIGSTOP never runs its SIGTERM handler), then removes the socket and pid
 * file it could not remove itself. Resolves with how it ended.
 */
export async function forceStop(paths: ProfilePaths, pid: number, graceMs = FORCE_STOP_GRACE_MS): Promise<'terminated' | 'killed'> {
  signal(pid, 'SIGTERM')
  let how: 'terminated' | 'killed' = 'terminated'
  if (!(await waitForExit(pid, graceMs))) {
    how = 'killed'
    signal(pid, 'SIGKILL')
    if (!(await waitForExit(pid, 10_000))) throw new P2PError(ErrorCode.Internal, `the daemon (pid ${pid}) survived SIGKILL`)
  }
  cleanStale(paths)
  return how
}

/**
 * Whether `pid` (from a pid file) is a p2p daemon rather than an unrelated process that got the
 * pid of a daemon long gone. Where /proc cannot tell, it is taken to be one.
 */
export function looksLikeDaemon(pid: number): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    return args.includes('daemon')
  } catch {
    return true
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (isProcessAlive(pid)) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  return true
}

/**
 * Pure: the flags given to a start that the running daemon does not have, as "--flag value (it
 * has ...)" phrases; empty when they agree. `--port 0` (any port) agrees with every port.
 */
export function settingsConflicts(settings: DaemonSettings, status: StatusResult): string[] {
  const conflicts: string[] = []
  if (settings.userId !== undefined && normalizeUserId(settings.userId) !== status.userId) {
    conflicts.push(`--user ${settings.userId} (it runs for ${status.userId})`)
  }
  if (settings.port !== undefined && settings.port !== 0 && settings.port !== status.listen.port) {
    conflicts.push(`--port ${settings.port} (it listens on ${status.listen.port})`)
  }
  if (settings.listen && settings.listen !== status.listen.host) {
    conflicts.push(`--listen ${settings.listen} (it listens on ${status.listen.host})`)
  }
  if (settings.serverUrl !== undefined && !sameServerUrl(settings.serverUrl, status.server.url)) {
    conflicts.push(`--server ${settings.serverUrl} (it uses ${status.server.url})`)
  }
  return conflicts
}

/** Refuses flags the running daemon does not have: they would be silently ignored (usage, exit 2). */
export function assertSettingsMatch(settings: DaemonSettings, status: StatusResult): void {
  const conflicts = settingsConflicts(settings, status)
  if (conflicts.length === 0) return
  throw new P2PError(
    ErrorCode.Usage,
    `a daemon for ${status.userId} already runs in ${status.home} (pid ${status.pid}) and these flags differ from it: ${conflicts.join(', ')}; stop it first (p2p daemon stop), or use another --home`,
  )
}

/** How long `daemon start` waits for the first registration before it reports. */
export const REGISTRATION_WAIT_MS = 5000

export type Registration = 'registered' | 'unreachable' | 'refused' | 'pending'

/** Pure: what a status says of the daemon's registration with the discovery server. */
export function registrationOf(status: StatusResult): Registration {
  if (status.server.registered) return 'registered'
  if (status.server.error === undefined) return 'pending'
  // No answer at all (connection refused, timeout) is worth retrying; anything else is the
  // server's own answer about this user.
  return status.server.errorCode === ErrorCode.ServerUnreachable ? 'unreachable' : 'refused'
}

/** Polls `status` until the first registration succeeded or failed, or `timeoutMs` passed. */
export async function awaitRegistration(paths: ProfilePaths, timeoutMs = REGISTRATION_WAIT_MS): Promise<StatusResult> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const status = await probeStatus(paths)
    if (!status) throw new P2PError(ErrorCode.Internal, `the daemon exited right after it started; see ${paths.log}`)
    if (registrationOf(status) !== 'pending' || Date.now() > deadline) return status
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}
