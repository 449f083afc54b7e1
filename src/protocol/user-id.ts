/**
 * User ids: 1 to 32 characters of `a-z 0-9 . _ -`, starting with a letter or digit, compared
 * case-insensitively. We store and compare the lower-case form everywhere, so "Bob" and "bob"
 * can never be two users.
 */
const USER_ID = /^[a-z0-9][a-z0-9._-]{0,31}$/

export const USER_ID_RULE = '1 to 32 characters of a-z 0-9 . _ -, starting with a letter or digit'

export function normalizeUserId(raw: string): string {
  return raw.toLowerCase()
}

export function isValidUserId(raw: string): boolean {
  return USER_ID.test(normalizeUserId(raw))
}
