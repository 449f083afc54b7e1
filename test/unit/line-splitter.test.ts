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

describe('LineSplitter on hostile input', () => {
  it('takes a 1 MB line dripped one byte per read in linear work (it once re-split the whole line on every read)', () => {
    const size = 1024 * 1024
    const splitter = new LineSplitter(size + 1)
    const byte = Buffer.from('x')
    let early = 0
    for (let i = 0; i < size; i++) early += (splitter.push(byte) as string[]).length
    expect(early).toBe(0)
    expect(splitter.pendingBytes).toBe(size)
    const lines = splitter.push(Buffer.from('\n'))
    expect(lines).toHaveLength(1)
    expect((lines as string[])[0]).toHaveLength(size)
  })

  it('refuses a dripped line as soon as it passes the cap, without holding more than the cap', () => {
    const splitter = new LineSplitter(100)
    const byte = Buffer.from('x')
    for (let i = 0; i < 100; i++) expect(splitter.push(byte)).toEqual([])
    expect(splitter.push(byte)).toBe('overflow')
    expect(splitter.pendingBytes).toBe(100)
  })

  it('gives a line that is not UTF-8 as its raw bytes, and the lines around it as text', () => {
    const splitter = new LineSplitter(100)
    const bad = Buffer.from([0x61, 0xff, 0xfe, 0x62])
    const lines = splitter.pushLines(Buffer.concat([Buffer.from('before\n'), bad, Buffer.from('\nafter\npart')]))
    expect(lines).toEqual(['before', bad, 'after'])
    expect(splitter.pushLines(Buffer.from('ial\n'))).toEqual(['partial'])
    // The text interface keeps its old behaviour for the control socket: replacement characters.
    expect(new LineSplitter(100).push(Buffer.concat([bad, Buffer.from('\n')]))).toEqual(['a\ufffd\ufffdb'])
  })
})
