/**
 * Input checks the CLI makes before asking the daemon, so that a typo fails fast with exit 2 and
 * a message that names the rule (the daemon checks again; it trusts no client).
 */
import { CURSOR_PATTERN } from '../protocol/defaults.js'
import { parseDurationSeconds } from '../protocol/duration.js'
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

/** Seconds in a duration as people type it (30m, 2h, 90); the message names the value, the caller the place. */
export function durationSeconds(raw: string): number {
  const seconds = parseDurationSeconds(raw)
  if (seconds === undefined) throw new P2PError(ErrorCode.Usage, `"${raw}" is not a duration such as 30m, 2h or 90 (seconds)`)
  return seconds
}

export function cursor(raw: string): string {
  if (!CURSOR_PATTERN.test(raw)) throw new P2PError(ErrorCode.Usage, `"${raw}" is not a cursor (a number as printed by watch --json)`)
  return raw
}
