/**
 * Frames on a peer link. The link is a Noise-encrypted stream (@hyperswarm/secret-stream); inside
 * it each frame is one JSON object on its own line. Frames are decoded here, outside any actor,
 * and the actors see whole, validated frames.
 *
 *   hello  first frame each way after the handshake: who I claim to be (checked against my key)
 *   msg    a chat message; `id` is the sender's (message-id.ts), `at` the sender's clock (ms)
 *   ack    the receiver stored (or had already stored) message `id`
 *   nack   the receiver refused message `id` for good (too large, malformed); do not retry
 *   ping / pong   liveness
 */
import { z } from 'zod'
import { UserIdSchema } from './discovery.js'
import { ErrorCode } from './errors.js'
import { MAX_TEXT_BYTES } from './limits.js'

export const PEER_PROTOCOL_VERSION = 1
/** The latest time a Date can hold, in ms. */
const MAX_AT = 8.64e15

export const MessageIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'message id must be 8 to 64 url-safe characters')
// The issues carry the stable error code in `params.code`, so callers need not read the message.
export const TextSchema = z
  .string()
  .refine((t) => t.length > 0, { message: 'message text is empty', params: { code: ErrorCode.EmptyMessage } })
  .refine((t) => Buffer.byteLength(t, 'utf8') <= MAX_TEXT_BYTES, {
    message: `message text is over ${MAX_TEXT_BYTES} bytes`,
    params: { code: ErrorCode.MessageTooLarge },
  })

export const HelloFrameSchema = z.object({ t: z.literal('hello'), userId: UserIdSchema, v: z.number().int() })
export const MsgFrameSchema = z.object({
  t: z.literal('msg'),
  id: MessageIdSchema,
  text: TextSchema,
  at: z.number().int().nonnegative().max(MAX_AT),
})
export const AckFrameSchema = z.object({ t: z.literal('ack'), id: MessageIdSchema })
export const NackFrameSchema = z.object({
  t: z.literal('nack'),
  id: MessageIdSchema,
  code: z.string().max(64),
  message: z.string().max(512),
})
export const PingFrameSchema = z.object({ t: z.literal('ping') })
export const PongFrameSchema = z.object({ t: z.literal('pong') })

export const PeerFrameSchema = z.discriminatedUnion('t', [
  HelloFrameSchema,
  MsgFrameSchema,
  AckFrameSchema,
  NackFrameSchema,
  PingFrameSchema,
  PongFrameSchema,
])

export type PeerFrame = z.infer<typeof PeerFrameSchema>
export type HelloFrame = z.infer<typeof HelloFrameSchema>
export type MsgFrame = z.infer<typeof MsgFrameSchema>
export type AckFrame = z.infer<typeof AckFrameSchema>

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
  const fast = wellFormedMsgOrAck(raw)
  if (fast) return { ok: true, frame: fast }
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

export function encodePeerFrame(frame: PeerFrame): string {
  return `${JSON.stringify(frame)}\n`
}
