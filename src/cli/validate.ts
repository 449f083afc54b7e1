/**
 * Input checks the CLI makes before asking the daemon, so that a typo fails fast with exit 2 and
 * a message that names the rule (the daemon checks again; it trusts no client).
 */
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { MAX_TEXT_BYTES } from '../protocol/limits.js'
import { isValidUserId, normalizeUserId, USER_ID_RULE } from '../protocol/user-id.js'

export function peerId(raw: string): string {
  if (!isValidUserId(raw)) throw new P2PError(ErrorCode.InvalidUserId, `invalid user id "${raw}": ${USER_ID_RULE}`)
  return normalizeUserId(raw)
}

export function checkText(text: string, where = 'message'): string {
  if (text.length === 0) throw new P2PError(ErrorCode.EmptyMessage, `${where} is empty`)
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > MAX_TEXT_BYTES) {
    throw new P2PError(ErrorCode.MessageTooLarge, `${where} is ${bytes} bytes of UTF-8; the limit is ${MAX_TEXT_BYTES} (64 KiB)`)
  }
  return text
}
