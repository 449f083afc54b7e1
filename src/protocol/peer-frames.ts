/**
 * Frames on a peer link. The link is a Noise-encrypted stream (@hyperswarm/secret-stream); inside
 * it each frame is one JSON object on its own line. Frames are decoded (peer-frame-codec.ts) outside any actor,
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
import { MAX_AT } from './peer-frame-codec.js'

// Decoding and encoding are in peer-frame-codec.ts, which checks the frames of a normal link
// without zod and comes here only for the others.
export {
  type DecodedFrame,
  decodePeerFrame,
  encodePeerFrame,
  PEER_PROTOCOL_VERSION,
  refuseInvalidUtf8,
  wellFormedLinkFrame,
  wellFormedMsgOrAck,
} from './peer-frame-codec.js'

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
export type PingFrame = z.infer<typeof PingFrameSchema>
export type PongFrame = z.infer<typeof PongFrameSchema>
