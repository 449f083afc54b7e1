/**
 * User ids: 1 to 32 characters of `a-z 0-9 . _ -`, starting with a letter or digit, compared
 * case-insensitively. We store and compare the lower-case form everywhere, so "Bob" and "bob"
 * can never be two users.
 */
// Checked as typed, before lower-casing: toLowerCase maps some non-ASCII letters to ASCII ones
// (the Kelvin sign becomes k), which would let two spellings name one user.
const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/

export const USER_ID_RULE = '1 to 32 characters of a-z 0-9 . _ -, starting with a letter or digit'

export function normalizeUserId(raw: string): string {
  return raw.toLowerCase()
}

export function isValidUserId(raw: string): boolean {
  return USER_ID.test(raw)
}
