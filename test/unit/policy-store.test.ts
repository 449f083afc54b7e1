import { describe, expect, it } from 'vitest'
import { isMuted, PolicyStore } from '../../src/daemon/stores/policy-store.js'
import { tempDb } from '../helpers/temp-db.js'

describe('PolicyStore', () => {
  it('persists blocks and mutes, says whether anything changed, and lets timed mutes lapse', () => {
    const db = tempDb()
    const policy = new PolicyStore(db)
    expect(policy.setBlocked('eve', true).changed).toBe(true)
    expect(policy.setBlocked('eve', true).changed).toBe(false)
    expect(policy.setMuted('bob', true, 2000, 1000).policy).toEqual({ blocked: false, muted: true, mutedUntil: 2000 })
    const reloaded = new PolicyStore(db)
    expect(reloaded.isBlocked('eve')).toBe(true)
    expect(reloaded.isMuted('bob', 1500)).toBe(true)
    expect(reloaded.isMuted('bob', 2500)).toBe(false)
    expect(isMuted({ blocked: false, muted: true }, Number.MAX_SAFE_INTEGER)).toBe(true)
  })
})
