import { describe, expect, it } from 'vitest'
import { decidePeer, isKeyChange } from '../../src/daemon/peer-auth.js'

describe('decidePeer', () => {
  const base = { userId: 'bob', remoteKey: 'k1', blocked: false }
  it('accepts a key vouched for by the pin or the server', () => {
    expect(decidePeer({ ...base, pinnedKey: 'k1' }).ok).toBe(true)
    expect(decidePeer({ ...base, boundKey: 'k1' }).ok).toBe(true)
    expect(decidePeer({ ...base, pinnedKey: 'k1', boundKey: 'k1' }).ok).toBe(true)
  })
  it('refuses blocked peers, changed keys, keys the server does not bind, and unverifiable peers', () => {
    expect(decidePeer({ ...base, pinnedKey: 'k1', blocked: true })).toMatchObject({ ok: false, code: 'blocked' })
    expect(decidePeer({ ...base, pinnedKey: 'k0', boundKey: 'k1' })).toMatchObject({ ok: false, code: 'key_changed' })
    expect(decidePeer({ ...base, pinnedKey: 'k1', boundKey: 'k2' })).toMatchObject({ ok: false, code: 'key_mismatch' })
    expect(decidePeer(base)).toMatchObject({ ok: false, code: 'unverifiable' })
  })

  it('a key neither pinned nor bound is an impostor, not a key change to report', () => {
    // Anyone can say hello in alice's name: that must not look like alice changing her key.
    expect(decidePeer({ ...base, pinnedKey: 'k0', boundKey: 'k0' })).toMatchObject({ ok: false, code: 'impostor' })
    expect(decidePeer({ ...base, pinnedKey: 'k0' })).toMatchObject({ ok: false, code: 'impostor' })
    expect(decidePeer({ ...base, boundKey: 'k2' })).toMatchObject({ ok: false, code: 'impostor' })
    expect(isKeyChange('impostor')).toBe(false)
    expect(isKeyChange('key_changed')).toBe(true)
  })
})
