import { describe, expect, it } from 'vitest'
import { NoiseInputMeter } from '../../src/daemon/peer-connection.js'

/** A Noise message as it crosses the socket: a 3-byte little-endian length, then that many bytes. */
const message = (length: number, announced = length) =>
  Buffer.concat([Buffer.from([announced & 0xff, (announced >> 8) & 0xff, (announced >> 16) & 0xff]), Buffer.alloc(length)])

describe('NoiseInputMeter', () => {
  it('caps the bytes before the hello, counting what a prefix announces before it arrives', () => {
    const meter = new NoiseInputMeter(1000, 10_000)
    expect(meter.take(message(400))).toBe('ok')
    expect(meter.take(message(10, 900))).toBe('over_budget')
  })

  it('after the hello only caps each message, and stays in step across chunk boundaries', () => {
    const meter = new NoiseInputMeter(1000, 10_000)
    meter.authenticated()
    const stream = Buffer.concat([message(9000), message(9000), message(5, 20_000)])
    // Fed a byte at a time for the first message, then in odd slices: prefixes split across reads.
    for (let i = 0; i < 9003; i++) expect(meter.take(stream.subarray(i, i + 1))).toBe('ok')
    expect(meter.take(stream.subarray(9003, 9003 + 4001))).toBe('ok')
    expect(meter.take(stream.subarray(9003 + 4001, 18_006 + 2))).toBe('ok')
    expect(meter.take(stream.subarray(18_006 + 2))).toBe('too_large')
  })

  it('reads a whole chunk even past a verdict, so a message over the cap later in it is still seen', () => {
    const meter = new NoiseInputMeter(100, 10_000)
    expect(meter.take(Buffer.concat([message(200), message(1, 50_000)]))).toBe('too_large')
  })
})
