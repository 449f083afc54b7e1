/**
 * The one map from a stable error code (src/protocol/errors.ts) to the process exit code
 * (SPEC section 5). Scripts branch on these numbers, so they never change meaning.
 */
import { ErrorCode } from '../protocol/errors.js'

export const ExitCode = {
  Ok: 0,
  Other: 1,
  Usage: 2,
  DaemonNotRunning: 3,
  UnknownPeer: 4,
  Blocked: 5,
} as const

/** Codes that mean "you asked for something malformed": fix the command line, not the world. */
const USAGE_CODES: ReadonlySet<string> = new Set([
  ErrorCode.Usage,
  ErrorCode.BadRequest,
  ErrorCode.InvalidUserId,
  ErrorCode.MessageTooLarge,
  ErrorCode.EmptyMessage,
  ErrorCode.TooLarge,
  // A first start without --user: a missing flag.
  ErrorCode.NotConfigured,
])

export function exitCodeFor(code: string): number {
  if (USAGE_CODES.has(code)) return ExitCode.Usage
  switch (code) {
    case ErrorCode.DaemonNotRunning:
      return ExitCode.DaemonNotRunning
    case ErrorCode.UnknownPeer:
      return ExitCode.UnknownPeer
    case ErrorCode.Blocked:
      return ExitCode.Blocked
    default:
      return ExitCode.Other
  }
}
