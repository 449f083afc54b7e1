import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type Deadline, DeadlineSweep } from '../../src/daemon/deadline-sweep.js'

interface Wait extends Deadline {
  name: string
}

const wait = (name: string): Wait => ({ name, due: 0, done: false })

describe('DeadlineSweep', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  function sweep() {
    const expired: string[] = []
    const deadlines = new DeadlineSweep<Wait>(
      (entry) => expired.push(entry.name),
      () => Date.now(),
    )
    return { deadlines, expired }
  }

  it('expires each entry at its own deadline, in order, whatever its duration', () => {
    const { deadlines, expired } = sweep()
    deadlines.add(wait('a'), 100)
    deadlines.add(wait('c'), 200)
    vi.advanceTimersByTime(50)
    deadlines.add(wait('b'), 100)
    vi.advanceTimersByTime(49)
    expect(expired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(expired).toEqual(['a'])
    vi.advanceTimersByTime(49)
    expect(expired).toEqual(['a'])
    vi.advanceTimersByTime(1)
    expect(expired).toEqual(['a', 'b'])
    vi.advanceTimersByTime(50)
    expect(expired).toEqual(['a', 'b', 'c'])
    expect(deadlines.size).toBe(0)
  })

  it('never expires a finished entry, finished in order or not', () => {
    const { deadlines, expired } = sweep()
    const entries = ['a', 'b', 'c', 'd'].map(wait)
    for (const entry of entries) deadlines.add(entry, 100)
    deadlines.finish(entries[1] as Wait, 100)
    deadlines.finish(entries[0] as Wait, 100)
    deadlines.finish(entries[3] as Wait, 100)
    expect(deadlines.size).toBe(1)
    vi.advanceTimersByTime(100)
    expect(expired).toEqual(['c'])
    expect(entries.map((e) => e.done)).toEqual([true, true, true, true])
  })

  it('keeps only what still waits: thousands finished in order leave nothing behind, and new entries still expire', () => {
    const { deadlines, expired } = sweep()
    for (let round = 0; round < 3; round++) {
      const entries = Array.from({ length: 5000 }, (_, i) => wait(`${round}-${i}`))
      for (const entry of entries) deadlines.add(entry, 1000)
      for (const entry of entries.slice(0, -1)) deadlines.finish(entry, 1000)
      expect(deadlines.size).toBe(1)
      vi.advanceTimersByTime(1000)
      expect(expired.at(-1)).toBe(`${round}-4999`)
    }
    expect(expired).toHaveLength(3)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('takes entries added while it expires others', () => {
    const expired: string[] = []
    const deadlines: DeadlineSweep<Wait> = new DeadlineSweep<Wait>(
      (entry) => {
        expired.push(entry.name)
        if (entry.name === 'first') deadlines.add(wait('again'), 100)
      },
      () => Date.now(),
    )
    deadlines.add(wait('first'), 100)
    vi.advanceTimersByTime(100)
    expect(expired).toEqual(['first'])
    vi.advanceTimersByTime(100)
    expect(expired).toEqual(['first', 'again'])
  })
})
