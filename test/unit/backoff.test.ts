import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../../src/daemon/backoff.js'

describe('backoffDelay', () => {
  it('doubles up to the cap and draws from the upper half', () => {
    const policy = { baseMs: 100, maxMs: 1000 }
    expect(backoffDelay(0, policy, () => 0)).toBe(50)
    expect(backoffDelay(0, policy, () => 1)).toBe(100)
    expect(backoffDelay(3, policy, () => 1)).toBe(800)
    expect(backoffDelay(50, policy, () => 1)).toBe(1000)
    expect(backoffDelay(50, policy, () => 0)).toBe(500)
  })
})
