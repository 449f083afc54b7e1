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
/** A hello is about 100 bytes; a peer that has not said who it is gets no more room than this. */
export const MAX_HELLO_BYTES = 4 * 1024
/**
 * Raw bytes a peer may send (or announce in a Noise length prefix) before its hello: a handshake
 * takes a few hundred. The Noise library would otherwise buffer messages of up to 16 MiB for
 * anyone who connects (64 pending handshakes pinned 1.2 GB).
 */
export const MAX_PREAUTH_BYTES = 64 * 1024
/**
 * Plaintext bytes per Noise message, for the link's lifetime: writers slice at it, and a peer that
 * announces a longer one is cut off before it is buffered (the library would take 16 MiB).
 */
export const MAX_NOISE_MESSAGE_BYTES = 1024 * 1024
/** What secret-stream adds to each message's plaintext (its authentication tag and type byte), with room to spare. */
export const NOISE_MESSAGE_OVERHEAD_BYTES = 64
/**
 * What a link may hold unsent for a peer: past the high-water mark we stop reading from it (most
 * of what we send answers what it sends), past the hard limit the link is closed.
 */
export const LINK_BACKLOG_HIGH_WATER_BYTES = 1024 * 1024
export const LINK_BACKLOG_MAX_BYTES = 8 * 1024 * 1024
