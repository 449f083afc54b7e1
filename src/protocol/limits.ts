/** Limits shared by the sender's checks and the receiver's refusals. */

/** Message text: up to 64 KiB of UTF-8. */
export const MAX_TEXT_BYTES = 64 * 1024
/**
 * A peer frame carries one message at most; JSON escaping can grow text up to six times
 * (control characters become \u00XX), so the cap leaves room for that and nothing more.
 */
export const MAX_PEER_FRAME_BYTES = 6 * MAX_TEXT_BYTES + 1024
/** A control request carries one message text at most, with the same escaping headroom. */
export const MAX_CONTROL_LINE_BYTES = 6 * MAX_TEXT_BYTES + 1024
