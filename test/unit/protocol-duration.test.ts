import { describe, expect, it } from 'vitest'
import { parseDurationSeconds } from '../../src/protocol/duration.js'

describe('parseDurationSeconds', () => {
  it.each([
    ['90', 90],
    ['45s', 45],
    ['30m', 1800],
    ['2h', 7200],
    ['7d', 604_800],
    ['1w', 604_800],
    ['1h30m', 5400],
    [' 2H ', 7200],
    ['1.5h', 5400],
    [12, 12],
  ] as const)('%j is %d seconds', (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds)
  })

  it.each(['', 'abc', '0', '0s', '-5', '5x', 'h', '1h 30m', '1d-1h'])('%j is not a duration', (text) => {
    expect(parseDurationSeconds(text)).toBeUndefined()
  })

  it('refuses numbers that are not positive and finite', () => {
    expect(parseDurationSeconds(0)).toBeUndefined()
    expect(parseDurationSeconds(-1)).toBeUndefined()
    expect(parseDurationSeconds(Number.POSITIVE_INFINITY)).toBeUndefined()
    expect(parseDurationSeconds(Number.NaN)).toBeUndefined()
  })
})
