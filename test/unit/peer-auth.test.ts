import { describe, expect, it } from 'vitest'
import { decidePeer } from '../../src/daemon/peer-auth.js'

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
    expect(decidePeer({ ...base, boundKey: 'k2' })).toMatchObject({ ok: false, code: 'key_mismatch' })
    expect(decidePeer(base)).toMatchObject({ ok: false, code: 'unverifiable' })
  })
})
