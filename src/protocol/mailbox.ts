/**
 * The mailbox's HTTP surface (SPEC section 10): request and response bodies and the bytes each
 * signed request covers, shared by the server and the daemon like discovery.ts.
 *
 * Depositing needs no account (the server cannot know the sender: that is inside the seal), so it
 * is limited per source address and per recipient instead. Fetching and deleting are the
 * recipient's alone: signed with the key its user id is bound to, with the keep-alive scheme
 * (timestamp window, each signature used once).
 */
import { z } from 'zod'
import { UserIdSchema } from './discovery.js'
import { MAX_SEALED_BYTES } from './limits.js'

// Signing needs no zod (the daemon signs a fetch after each registration): a module of its own.
export { deleteBytes, fetchBytes, signDelete, signFetch } from './mailbox-signing.js'

/** How long the server keeps an item nobody took. */
export const MAILBOX_ITEM_LIFETIME_MS = 7 * 86_400_000
/** Stored bytes per recipient. */
export const DEFAULT_MAILBOX_MAX_BYTES = 32 * 1024 * 1024
/** Items one fetch answers at most, and the bytes of sealed items it stops adding at. */
export const MAX_FETCH_ITEMS = 200
export const MAX_FETCH_BYTES = 4 * 1024 * 1024
/**
 * A deposit body: the largest sealed item in base64 and its JSON wrapper. Above the 16 KiB cap of
 * the other routes, because a sealed item holds up to 64 KiB of text.
 */
export const MAX_DEPOSIT_BODY_BYTES = Math.ceil(MAX_SEALED_BYTES / 3) * 4 + 256

const base64 = /^[A-Za-z0-9+/]*={0,2}$/
const SignatureSchema = z.string().regex(/^[0-9a-f]{128}$/, 'sig must be 128 lower-case hex characters (Ed25519)')
const TimestampSchema = z.number().int().nonnegative()
/** Server-made item ids: opaque to clients, ordered by the store. */
export const MailboxItemIdSchema = z.string().regex(/^[0-9]{1,20}$/, 'item id must be the decimal id the server gave')

export const DepositRequestSchema = z.strictObject({
  to: UserIdSchema,
  box: z
    .string()
    .max(Math.ceil(MAX_SEALED_BYTES / 3) * 4, 'box is larger than any sealed item')
    .regex(base64, 'box must be base64'),
})
export const DepositResponseSchema = z.object({ id: MailboxItemIdSchema, expiresAt: z.string() })

export const FetchRequestSchema = z.strictObject({
  userId: UserIdSchema,
  after: MailboxItemIdSchema.optional(),
  limit: z.number().int().min(1).max(MAX_FETCH_ITEMS).optional(),
  ts: TimestampSchema,
  sig: SignatureSchema,
})
export const FetchResponseSchema = z.object({
  items: z.array(z.object({ id: MailboxItemIdSchema, box: z.string(), depositedAt: z.string() })),
  /** Present when more items wait after the last one: pass it as `after`. */
  next: MailboxItemIdSchema.optional(),
})

export const DeleteRequestSchema = z.strictObject({
  userId: UserIdSchema,
  ids: z.array(MailboxItemIdSchema).min(1).max(MAX_FETCH_ITEMS),
  ts: TimestampSchema,
  sig: SignatureSchema,
})
export const DeleteResponseSchema = z.object({ deleted: z.number().int().nonnegative() })

export type DepositRequest = z.infer<typeof DepositRequestSchema>
export type FetchRequest = z.infer<typeof FetchRequestSchema>
export type FetchResponse = z.infer<typeof FetchResponseSchema>
export type DeleteRequest = z.infer<typeof DeleteRequestSchema>
