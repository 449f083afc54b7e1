import { describe, expect, it } from 'vitest'
import { LineSplitter } from '../../src/daemon/line-splitter.js'

describe('LineSplitter', () => {
  it('joins partial lines across chunks and refuses a line over the cap before it ends', () => {
    const splitter = new LineSplitter(10)
    expect(splitter.push('ab')).toEqual([])
    expect(splitter.push('c\nde\nf')).toEqual(['abc', 'de'])
    expect(splitter.push('g\n')).toEqual(['fg'])
    expect(new LineSplitter(4).push('12345')).toBe('overflow')
  })

  it('decodes a character split between two reads whole', () => {
    const bytes = Buffer.from('héllo ☃\n')
    const splitter = new LineSplitter(100)
    // Cut inside the two-byte é and inside the three-byte snowman.
    expect(splitter.push(bytes.subarray(0, 2))).toEqual([])
    expect(splitter.push(bytes.subarray(2, 8))).toEqual([])
    expect(splitter.push(bytes.subarray(8))).toEqual(['héllo ☃'])
  })
})
