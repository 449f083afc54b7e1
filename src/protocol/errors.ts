/**
 * Stable error codes shared by the discovery server, the daemon and the CLI. The code is the
 * contract; messages are for people and may change. The CLI maps codes to exit codes in one place
 * (src/cli/exit-codes.ts).
 */
export const ErrorCode = {
  // Input
  BadRequest: 'bad_request',
  TooLarge: 'too_large',
  InvalidUserId: 'invalid_user_id',
  MessageTooLarge: 'message_too_large',
  EmptyMessage: 'empty_message',
  // Identity
  BadSignature: 'bad_signature',
  StaleTimestamp: 'stale_timestamp',
  Replayed: 'replayed',
  UserIdTaken: 'user_id_taken',
  OnlineElsewhere: 'online_elsewhere',
  KeyChanged: 'key_changed',
  FingerprintMismatch: 'fingerprint_mismatch',
  // Lookup and policy
  NotFound: 'not_found',
  MethodNotAllowed: 'method_not_allowed',
  UnknownPeer: 'unknown_peer',
  Blocked: 'blocked',
  // Load
  RateLimited: 'rate_limited',
  /** The server's shared store (Redis) is out of reach: try again, here or at another instance. */
  Unavailable: 'unavailable',
  // Mailbox (SPEC section 10)
  MailboxFull: 'mailbox_full',
  MailboxDisabled: 'mailbox_disabled',
  // Relay (SPEC section 9)
  RelayDisabled: 'relay_disabled',
  RelayFull: 'relay_full',
  TooManyConnections: 'too_many_connections',
  TooManyCircuits: 'too_many_circuits',
  PeerUnreachable: 'peer_unreachable',
  PairingTimeout: 'pairing_timeout',
  IdleTimeout: 'idle_timeout',
  // Daemon and profile
  DaemonNotRunning: 'daemon_not_running',
  DaemonUnreachable: 'daemon_unreachable',
  /** It accepts connections but answers nothing (stopped with SIGSTOP, hung): exit 1, not a hang. */
  DaemonNotResponding: 'daemon_not_responding',
  NotConfigured: 'not_configured',
  SocketPathTooLong: 'socket_path_too_long',
  ServerUnreachable: 'server_unreachable',
  Usage: 'usage',
  Internal: 'internal',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export class P2PError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string) {
    super(message)
    this.name = 'P2PError'
    this.code = code
  }
}

export interface ErrorBody {
  error: { code: string; message: string }
}

export function errorBody(code: ErrorCode | string, message: string): ErrorBody {
  return { error: { code, message } }
}
