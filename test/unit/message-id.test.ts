import { describe, expect, it } from 'vitest'
import { newMessageId, timePrefix } from '../../src/protocol/message-id.js'
import { MessageIdSchema } from '../../src/protocol/peer-frames.js'

describe('message ids', () => {
  it('are 21 url-safe characters that the frame schema accepts', () => {
    const id = newMessageId()
    expect(id).toMatch(/^[A-Za-z0-9_-]{21}$/)
    expect(MessageIdSchema.safeParse(id).success).toBe(true)
  })

  it('sort as their times do, across every digit boundary of the prefix', () => {
    const times = [0, 1, 63, 64, 65, 4095, 4096, 1_700_000_000_000, 1_700_000_000_001, Date.now(), 64 ** 8 - 1]
    const prefixes = times.map(timePrefix)
    expect([...prefixes].sort()).toEqual(prefixes)
    expect(new Set(prefixes).size).toBe(times.length)
    const ids = times.map((t) => newMessageId(t))
    expect([...ids].sort()).toEqual(ids)
  })

  it('differ within one millisecond', () => {
    const ids = Array.from({ length: 10_000 }, () => newMessageId(1_800_000_000_000))
    expect(new Set(ids).size).toBe(ids.length)
    expect(new Set(ids.map((id) => id.slice(0, 8))).size).toBe(1)
  })

  it('carry the prefix of their own millisecond when times go back and forth', () => {
    for (const t of [1_800_000_000_000, 1_800_000_000_001, 1_800_000_000_000, 5, 5, 1_800_000_000_001])
      expect(newMessageId(t).slice(0, 8)).toBe(timePrefix(t))
  })
})
