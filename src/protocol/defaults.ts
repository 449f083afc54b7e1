/**
 * Defaults and input shapes that the CLI, the daemon and the discovery server must agree on, in
 * one module. Plain constants on purpose: a one-shot command imports this, so it must never pull
 * in zod or anything heavier than itself.
 */

/** `p2p server` listens here unless told otherwise; the daemon's default server URL points at it. */
export const DEFAULT_SERVER_HOST = '0.0.0.0'
export const DEFAULT_SERVER_PORT = 5000
export const DEFAULT_SERVER_URL = `http://127.0.0.1:${DEFAULT_SERVER_PORT}`

/** Seconds a lease lives without a keep-alive (SPEC section 3; the daemon sends one every ttl/3). */
export const DEFAULT_LEASE_TTL_SECONDS = 30
/** How long a user id stays bound to its key after its owner went offline. */
export const DEFAULT_RESERVATION_DAYS = 30
/** Requests per second per client address at the discovery server (burst: twice that). */
export const DEFAULT_RATE_LIMIT_PER_SECOND = 50

/** Mailbox items kept per recipient at the discovery server (`p2p server --mailbox-quota`). */
export const DEFAULT_MAILBOX_MAX_ITEMS = 1000
/** Mailbox deposits per second per client address (burst: ten times that; `--mailbox-rate`). */
export const DEFAULT_MAILBOX_DEPOSIT_RATE = 10

/** `p2p msg --timeout` and the `send` method: seconds to wait for the peer's acknowledgement. */
export const DEFAULT_SEND_TIMEOUT_S = 10
export const MAX_SEND_TIMEOUT_S = 3600

/** `p2p history --limit` and the `history` method. */
export const DEFAULT_HISTORY_LIMIT = 50
export const MAX_HISTORY_LIMIT = 100_000

/** A `watch --since` / `subscribe {since}` cursor: a decimal number as `watch --json` prints it. */
export const CURSOR_PATTERN = /^\d{1,18}$/
