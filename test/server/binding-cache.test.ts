/** The instance's cache of bound keys and their lease keys (binding-cache.ts). */
import { describe, expect, it } from 'vitest'
import { deriveLeaseKey } from '../../src/protocol/lease-proof.js'
import { BindingCache } from '../../src/server/binding-cache.js'

const SECRET = Buffer.alloc(32, 7)
const KEY_A = 'a'.repeat(64)
const KEY_B = 'b'.repeat(64)

describe('binding cache', () => {
  it('remembers keys up to its size, dropping the oldest first', () => {
    const cache = new BindingCache(2)
    cache.remember('amy', KEY_A)
    cache.remember('ben', KEY_A)
    cache.remember('amy', KEY_B)
    cache.remember('cat', KEY_A)
    expect(cache.publicKey('ben')).toBeUndefined()
    expect(cache.publicKey('amy')).toBe(KEY_B)
    expect(cache.publicKey('cat')).toBe(KEY_A)
    cache.forget('cat')
    expect(cache.publicKey('cat')).toBeUndefined()
  })

  it('gives the lease key of the key and instance asked for, never one derived for another', () => {
    const cache = new BindingCache()
    cache.remember('amy', KEY_A)
    for (const instance of [undefined, 'laptop-aaaa', 'desktop-bbbb', undefined]) {
      expect(cache.leaseKey(SECRET, 'amy', KEY_A, instance)).toEqual(deriveLeaseKey(SECRET, 'amy', KEY_A, instance))
    }
    // A key other than the cached one (a proof checked against a fresh read) is derived, not cached.
    expect(cache.leaseKey(SECRET, 'amy', KEY_B, undefined)).toEqual(deriveLeaseKey(SECRET, 'amy', KEY_B, undefined))
    cache.remember('amy', KEY_B)
    expect(cache.leaseKey(SECRET, 'amy', KEY_B, undefined)).toEqual(deriveLeaseKey(SECRET, 'amy', KEY_B, undefined))
    expect(cache.leaseKey(SECRET, 'zed', KEY_A, undefined)).toEqual(deriveLeaseKey(SECRET, 'zed', KEY_A, undefined))
  })
})
