/**
 * `p2p daemon stop [--force]`, for the oclif command and the fast path alike: ask the daemon to
 * shut down and wait until its process is gone; with --force, signals for a daemon that does not
 * answer.
 */
import { ErrorCode, P2PError } from '../protocol/errors.js'
import type { ProfilePaths } from '../protocol/profile.js'
import type { StatusResult } from '../protocol/rpc.js'
import type { Outcome } from './command-outcomes.js'
import { cleanStale, FORCE_STOP_GRACE_MS, forceStop, isProcessAlive, looksLikeDaemon, probeStatus, stopDaemon } from './daemon-launcher.js'
import { readPidFile } from './report.js'

export interface DaemonStopResult {
  stopped: boolean
  wasRunning: boolean
  pid?: number
  /** With --force: whether SIGTERM was enough or it took SIGKILL. */
  how?: 'terminated' | 'killed'
}

export async function stopOutcome(paths: ProfilePaths, force: boolean): Promise<Outcome<DaemonStopResult>> {
  let status: StatusResult | undefined
  try {
    status = await probeStatus(paths)
  } catch (error) {
    // Not answering is what --force is for.
    if (!(force && error instanceof P2PError && error.code === ErrorCode.DaemonNotResponding)) throw error
  }
  if (force) return forceStopOutcome(paths, status)
  if (!status) return notRunning()
  await stopDaemon(paths, status)
  return { result: { stopped: true, wasRunning: true, pid: status.pid }, text: `daemon for ${status.userId} stopped (pid ${status.pid})` }
}

async function forceStopOutcome(paths: ProfilePaths, status: StatusResult | undefined): Promise<Outcome<DaemonStopResult>> {
  const pid = status?.pid ?? readPidFile(paths.pid)
  if (pid !== undefined && !isProcessAlive(pid)) cleanStale(paths)
  if (pid === undefined || !isProcessAlive(pid) || (!status && !looksLikeDaemon(pid))) return notRunning()
  const how = await forceStop(paths, pid)
  const who = status ? `daemon for ${status.userId}` : 'daemon'
  const text = `${who} ${how === 'killed' ? 'killed' : 'stopped'} (pid ${pid}${how === 'killed' ? `, still there ${FORCE_STOP_GRACE_MS / 1000} s after SIGTERM` : ''})`
  return { result: { stopped: true, wasRunning: true, pid, how }, text }
}

function notRunning(): Outcome<DaemonStopResult> {
  // Leftovers of a crashed daemon are cleaned by the next `daemon start`, the one place that does it.
  return { result: { stopped: false, wasRunning: false }, text: 'daemon was not running; nothing to stop' }
}
