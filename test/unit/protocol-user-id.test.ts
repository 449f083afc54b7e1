import { describe, expect, it } from 'vitest'
import { isValidUserId, normalizeUserId } from '../../src/protocol/user-id.js'

describe('user ids', () => {
  it.each(['a', 'bob', 'Bob', '0day', 'a.b_c-d', 'x'.repeat(32), '9'])('accepts %s', (id) => {
    expect(isValidUserId(id)).toBe(true)
  })

  it.each(['', '.bob', '_bob', '-bob', 'x'.repeat(33), 'bo b', 'bob!', 'bøb', 'bob\n', 'a/b', '\u212Aate', 'İnci'])('refuses %j', (id) => {
    expect(isValidUserId(id)).toBe(false)
  })

  it('compares case-insensitively through the lower-case form', () => {
    expect(normalizeUserId('AlIcE')).toBe('alice')
    expect(normalizeUserId('alice')).toBe('alice')
  })
})
