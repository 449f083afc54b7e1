/**
 * Decoding and encoding peer frames (the frames: peer-frames.ts). The frames of a normal link
 * (msg, ack, hello, ping, pong) are checked by hand; the schemas, and zod with them, load only for
 * a frame those checks are not sure of (a nack, a malformed frame), which they judge and word.
 */
import { MAX_TEXT_BYTES } from './limits.js'
import { peerFrameSchemas } from './load-schemas.js'
import type { AckFrame, HelloFrame, MsgFrame, PeerFrame, PingFrame, PongFrame } from './peer-frames.js'
import { isValidUserId, normalizeUserId } from './user-id.js'

export const PEER_PROTOCOL_VERSION = 1
/** The latest time a Date can hold, in ms. */
export const MAX_AT = 8.64e15

export type DecodedFrame =
  | { ok: true; frame: PeerFrame }
  | {
      ok: false
      code: 'malformed' | 'invalid' | 'invalid_utf8'
      message: string
      /** Set when a msg frame could be identified, so it can be nacked. */
      id?: string
    }

/** Pure: one line of bytes to a frame or a reason it is not one. */
export function decodePeerFrame(line: string): DecodedFrame {
  let raw: unknown
  try {
    raw = JSON.parse(line)
  } catch {
    return { ok: false, code: 'malformed', message: 'frame is not JSON' }
  }
  const fast = wellFormedMsgOrAck(raw) ?? wellFormedLinkFrame(raw)
  if (fast) return { ok: true, frame: fast }
  // Anything else (a nack, a malformed frame) is the schemas' to judge and word; they load here.
  const { PeerFrameSchema, MessageIdSchema } = peerFrameSchemas()
  const parsed = PeerFrameSchema.safeParse(raw)
  if (parsed.success) return { ok: true, frame: parsed.data }
  const id = typeof raw === 'object' && raw !== null && (raw as { t?: unknown }).t === 'msg' ? (raw as { id?: unknown }).id : undefined
  const validId = MessageIdSchema.safeParse(id)
  return {
    ok: false,
    code: 'invalid',
    message: parsed.error.issues[0]?.message ?? 'invalid frame',
    ...(validId.success ? { id: validId.data } : {}),
  }
}

const MESSAGE_ID = /^[A-Za-z0-9_-]{8,64}$/

/**
 * Pure: a well-formed msg or ack frame, checked without zod, or undefined for the schemas to judge
 * (they also word the errors). These two are every frame of a busy link, and the schema parse was
 * about 3% of the receiver's CPU (BENCHMARKS.md, B1). It accepts only what PeerFrameSchema accepts
 * and answers the same data (unknown keys dropped); a unit test feeds both the same inputs.
 */
export function wellFormedMsgOrAck(raw: unknown): MsgFrame | AckFrame | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined
  const { t, id } = raw as Record<string, unknown>
  if (typeof id !== 'string' || !MESSAGE_ID.test(id)) return undefined
  if (t === 'ack') return { t, id }
  if (t !== 'msg') return undefined
  const { text, at } = raw as Record<string, unknown>
  if (typeof text !== 'string' || text.length === 0) return undefined
  // Most texts are short: counting UTF-8 bytes is needed only when 3 bytes per unit could pass the cap.
  if (text.length * 3 > MAX_TEXT_BYTES && Buffer.byteLength(text, 'utf8') > MAX_TEXT_BYTES) return undefined
  if (typeof at !== 'number' || !Number.isInteger(at) || at < 0 || at > MAX_AT) return undefined
  return { t, id, text, at }
}

/**
 * Pure: a line whose bytes are not valid UTF-8 (the spec refuses such text rather than storing
 * replacement characters). The id of a msg frame is ASCII, so a lossy decode still finds it and
 * the sender gets a nack it can act on; anything else is simply invalid.
 */
export function refuseInvalidUtf8(line: Uint8Array): DecodedFrame {
  const refusal = { ok: false, code: 'invalid_utf8', message: 'frame is not valid UTF-8' } as const
  const lossy = decodePeerFrame(Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8'))
  if (lossy.ok) return lossy.frame.t === 'msg' ? { ...refusal, id: lossy.frame.id } : refusal
  return lossy.id ? { ...refusal, id: lossy.id } : refusal
}

/**
 * Pure: a well-formed hello, ping or pong, checked without zod like wellFormedMsgOrAck, so that a
 * normal link never loads it (BENCHMARKS.md, B9); same terms, same unit test.
 */
export function wellFormedLinkFrame(raw: unknown): HelloFrame | PingFrame | PongFrame | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined
  const { t } = raw as Record<string, unknown>
  if (t === 'ping' || t === 'pong') return { t }
  if (t !== 'hello') return undefined
  const { userId, v } = raw as Record<string, unknown>
  if (typeof userId !== 'string' || !isValidUserId(userId) || typeof v !== 'number' || !Number.isSafeInteger(v)) return undefined
  return { t, userId: normalizeUserId(userId), v }
}

export function encodePeerFrame(frame: PeerFrame): string {
  return `${JSON.stringify(frame)}\n`
}
