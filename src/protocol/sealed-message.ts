/**
 * What goes into a mailbox (SPEC section 10): a message or an acknowledgement, signed by its
 * sender and sealed to its recipient. The server sees a padded, anonymous blob: neither the text
 * nor the sender (both are inside the seal).
 *
 * Sealing is libsodium's `crypto_box_seal` to the recipient's X25519 key, derived from the Ed25519
 * identity the discovery server binds to its user id, so no second key needs publishing. Inside,
 * the sender's Ed25519 signature covers the recipient's id and key as well as the content: a
 * recipient cannot re-seal what it received to a third user and pass it off as the sender's
 * message to them.
 *
 * The plaintext is binary, not JSON: JSON escaping can grow text sixfold, and a binary layout keeps
 * the largest message (64 KiB of text) inside one size bucket. Layout:
 *
 *   version u8 | kind u8 | sender key 32 | at u64 | from u8-len | id u8-len | body u32-len | sig 64
 *   then 0x80 and zeros up to the bucket size (ISO/IEC 7816-4 padding)
 *
 * `body` is the text of a message, or the acknowledged ids joined by spaces for an ack.
 */
import sodium from 'sodium-native'
import { fromHex, type Identity, sign, toHex, verify } from './identity.js'
import { MAX_SEALED_BYTES, MAX_TEXT_BYTES, SEAL_BUCKETS } from './limits.js'
import { isValidUserId, normalizeUserId } from './user-id.js'

const VERSION = 1
const KIND = { message: 1, ack: 2 } as const
const SIGNATURE_TAG = Buffer.from('p2p/v1/sealed\n', 'utf8')
const MESSAGE_ID = /^[A-Za-z0-9_-]{8,64}$/

/** Ids one sealed ack carries at most: keeps it in the smallest buckets. */
export const MAX_ACK_IDS = 200

export type SealedContent =
  | { kind: 'message'; from: string; id: string; at: number; text: string }
  | { kind: 'ack'; from: string; at: number; ids: string[] }

export interface Recipient {
  userId: string
  /** Ed25519 public key, hex. */
  publicKey: string
}

export type OpenResult =
  | { ok: true; content: SealedContent; senderKey: string }
  | { ok: false; reason: 'undecryptable' | 'malformed' | 'bad_signature' }

/** Pure: the X25519 public key that belongs to an Ed25519 one; undefined for a key that is not a valid point. */
export function sealingKeyOf(ed25519PublicKey: Buffer): Buffer | undefined {
  const out = Buffer.alloc(sodium.crypto_box_PUBLICKEYBYTES)
  try {
    sodium.crypto_sign_ed25519_pk_to_curve25519(out, ed25519PublicKey)
    return out
  } catch {
    return undefined
  }
}

/** The X25519 key pair of an identity, made once per identity. */
const openingKeys = new WeakMap<Identity, { publicKey: Buffer; secretKey: Buffer }>()
function openingKeysOf(identity: Identity): { publicKey: Buffer; secretKey: Buffer } {
  let keys = openingKeys.get(identity)
  if (!keys) {
    const secretKey = Buffer.alloc(sodium.crypto_box_SECRETKEYBYTES)
    sodium.crypto_sign_ed25519_sk_to_curve25519(secretKey, Buffer.concat([identity.seed, identity.publicKey]))
    keys = { publicKey: sealingKeyOf(identity.publicKey) as Buffer, secretKey }
    openingKeys.set(identity, keys)
  }
  return keys
}

/** Pure: the smallest bucket that holds `length` bytes and the padding marker. */
export function bucketFor(length: number): number | undefined {
  return SEAL_BUCKETS.find((size) => size >= length + 1)
}

function bodyOf(content: SealedContent): Buffer {
  return Buffer.from(content.kind === 'message' ? content.text : content.ids.join(' '), 'utf8')
}

function signedBytes(recipient: Recipient, unsigned: Buffer): Buffer {
  const to = Buffer.from(normalizeUserId(recipient.userId), 'utf8')
  return Buffer.concat([SIGNATURE_TAG, Buffer.from([to.length]), to, fromHex(recipient.publicKey), unsigned])
}

/** Seals `content` from `sender` to `recipient`. Throws on content that could never be opened (bad ids, too long). */
export function seal(content: SealedContent, sender: Identity, recipient: Recipient): Buffer {
  const from = Buffer.from(normalizeUserId(content.from), 'utf8')
  const id = Buffer.from(content.kind === 'message' ? content.id : '', 'utf8')
  const body = bodyOf(content)
  if (!isValidUserId(content.from)) throw new Error('sealed content: invalid sender id')
  if (content.kind === 'message' && !MESSAGE_ID.test(content.id)) throw new Error('sealed content: invalid message id')
  if (
    content.kind === 'ack' &&
    (content.ids.length === 0 || content.ids.length > MAX_ACK_IDS || !content.ids.every((i) => MESSAGE_ID.test(i)))
  )
    throw new Error('sealed content: an ack carries 1 to 200 valid ids')
  if (body.length > MAX_TEXT_BYTES) throw new Error('sealed content: body over the text limit')
  const header = Buffer.alloc(2 + 32 + 8)
  header[0] = VERSION
  header[1] = KIND[content.kind]
  sender.publicKey.copy(header, 2)
  header.writeBigUInt64BE(BigInt(content.at), 34)
  const bodyLength = Buffer.alloc(4)
  bodyLength.writeUInt32BE(body.length)
  const unsigned = Buffer.concat([header, Buffer.from([from.length]), from, Buffer.from([id.length]), id, bodyLength, body])
  const signature = sign(sender, signedBytes(recipient, unsigned))
  const plain = Buffer.concat([unsigned, signature])
  const bucket = bucketFor(plain.length) as number
  const padded = Buffer.alloc(bucket)
  plain.copy(padded)
  padded[plain.length] = 0x80
  const recipientKey = sealingKeyOf(fromHex(recipient.publicKey))
  if (!recipientKey) throw new Error('sealed content: the recipient key is not a valid Ed25519 key')
  const sealed = Buffer.alloc(bucket + sodium.crypto_box_SEALBYTES)
  sodium.crypto_box_seal(sealed, padded, recipientKey)
  return sealed
}

/** A reader over the plaintext that says "malformed" instead of throwing past the end. */
class Reader {
  offset = 0
  constructor(private readonly buf: Buffer) {}
  take(n: number): Buffer | undefined {
    if (this.offset + n > this.buf.length) return undefined
    const out = this.buf.subarray(this.offset, this.offset + n)
    this.offset += n
    return out
  }
  u8(): number | undefined {
    return this.take(1)?.[0]
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes)
  } catch {
    return undefined
  }
}

/** Pure: the plaintext without its padding, or undefined when the padding is not ours. */
function unpad(padded: Buffer): Buffer | undefined {
  let end = padded.length - 1
  while (end >= 0 && padded[end] === 0) end--
  return end >= 0 && padded[end] === 0x80 ? padded.subarray(0, end) : undefined
}

/**
 * Opens a sealed item addressed to `me` and checks its inner signature against the key it names.
 * Whether that key may speak for the user id it names is the caller's decision (pin and binding).
 */
export function openSealed(sealed: Buffer, me: { userId: string; identity: Identity }): OpenResult {
  if (sealed.length <= sodium.crypto_box_SEALBYTES || sealed.length > MAX_SEALED_BYTES) return { ok: false, reason: 'undecryptable' }
  const keys = openingKeysOf(me.identity)
  const padded = Buffer.alloc(sealed.length - sodium.crypto_box_SEALBYTES)
  if (!sodium.crypto_box_seal_open(padded, sealed, keys.publicKey, keys.secretKey)) return { ok: false, reason: 'undecryptable' }
  const plain = unpad(padded)
  if (!plain) return { ok: false, reason: 'malformed' }
  const r = new Reader(plain)
  const version = r.u8()
  const kind = r.u8()
  const senderKey = r.take(32)
  const atBytes = r.take(8)
  const fromLength = r.u8()
  const from = fromLength === undefined ? undefined : r.take(fromLength)
  const idLength = r.u8()
  const id = idLength === undefined ? undefined : r.take(idLength)
  const bodyLengthBytes = r.take(4)
  const body = bodyLengthBytes ? r.take(bodyLengthBytes.readUInt32BE()) : undefined
  const unsignedEnd = r.offset
  const signature = r.take(64)
  if (version !== VERSION || !senderKey || !atBytes || !from || !id || !body || !signature || r.offset !== plain.length) {
    return { ok: false, reason: 'malformed' }
  }
  const signed = signedBytes({ userId: me.userId, publicKey: toHex(me.identity.publicKey) }, plain.subarray(0, unsignedEnd))
  if (!verify(senderKey, signed, signature)) return { ok: false, reason: 'bad_signature' }
  const fromId = from.toString('latin1')
  const at = Number(atBytes.readBigUInt64BE())
  const text = decodeUtf8(body)
  if (!isValidUserId(fromId) || !Number.isSafeInteger(at) || text === undefined || body.length > MAX_TEXT_BYTES) {
    return { ok: false, reason: 'malformed' }
  }
  const sender = { from: normalizeUserId(fromId), at }
  if (kind === KIND.message) {
    const messageId = id.toString('latin1')
    if (!MESSAGE_ID.test(messageId) || text.length === 0) return { ok: false, reason: 'malformed' }
    return { ok: true, senderKey: toHex(senderKey), content: { kind: 'message', ...sender, id: messageId, text } }
  }
  if (kind === KIND.ack) {
    const ids = text.split(' ')
    if (ids.length > MAX_ACK_IDS || !ids.every((i) => MESSAGE_ID.test(i))) return { ok: false, reason: 'malformed' }
    return { ok: true, senderKey: toHex(senderKey), content: { kind: 'ack', ...sender, ids } }
  }
  return { ok: false, reason: 'malformed' }
}
