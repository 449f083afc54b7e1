import { describe, expect, it } from 'vitest'
import { PeerFrameSchema, wellFormedLinkFrame, wellFormedMsgOrAck } from '../../src/protocol/peer-frames.js'
import { expectAgreement } from '../helpers/fast-check.js'

const msg = (fields: Record<string, unknown>) => ({ t: 'msg', id: 'AbCdEfGh1234', text: 'hi', at: 1_800_000_000_000, ...fields })

const inputs: unknown[] = [
  msg({}),
  msg({ extra: 'dropped' }),
  msg({ id: 'short' }),
  msg({ id: 'x'.repeat(64) }),
  msg({ id: 'x'.repeat(65) }),
  msg({ id: 'has space here' }),
  msg({ id: 'ünïcödé-id' }),
  msg({ id: 12345678 }),
  msg({ text: '' }),
  msg({ text: 5 }),
  msg({ text: 'x'.repeat(64 * 1024) }),
  msg({ text: 'x'.repeat(64 * 1024 + 1) }),
  msg({ text: '€'.repeat(21845) }),
  msg({ text: '€'.repeat(21846) }),
  msg({ text: '😀'.repeat(16 * 1024) }),
  msg({ text: '😀'.repeat(16 * 1024 + 1) }),
  msg({ at: 0 }),
  msg({ at: -1 }),
  msg({ at: 1.5 }),
  msg({ at: 8.64e15 }),
  msg({ at: 8.64e15 + 1 }),
  msg({ at: '1' }),
  msg({ at: null }),
  { t: 'msg', id: 'AbCdEfGh1234', text: 'no time' },
  { t: 'ack', id: 'AbCdEfGh1234' },
  { t: 'ack', id: 'AbCdEfGh1234', extra: 1 },
  { t: 'ack', id: 'bad' },
  { t: 'ack' },
  { t: 'nack', id: 'AbCdEfGh1234', code: 'too_large', message: 'no' },
  { t: 'ping' },
  { t: 'pong' },
  { t: 'hello', userId: 'bob', v: 1 },
  { t: 'MSG', id: 'AbCdEfGh1234', text: 'hi', at: 1 },
  [],
  null,
  'msg',
  42,
]

describe('wellFormedMsgOrAck', () => {
  it('never accepts what the schema refuses, and answers what the schema answers', () => {
    let taken = 0
    for (const raw of inputs) {
      const fast = wellFormedMsgOrAck(raw)
      const schema = PeerFrameSchema.safeParse(raw)
      const label = JSON.stringify(raw).slice(0, 60)
      if (fast === undefined) continue
      taken++
      expect(schema.success, label).toBe(true)
      expect(fast, label).toEqual(schema.data)
      expect(Object.keys(fast), label).toEqual(Object.keys(schema.data as object))
    }
    // The common frames do take the fast way.
    expect(taken).toBeGreaterThanOrEqual(10)
    expect(wellFormedMsgOrAck(msg({}))).toEqual(msg({}))
    expect(wellFormedMsgOrAck({ t: 'ack', id: 'AbCdEfGh1234' })).toEqual({ t: 'ack', id: 'AbCdEfGh1234' })
  })
})

describe('wellFormedLinkFrame', () => {
  const hello = (fields: Record<string, unknown>) => ({ t: 'hello', userId: 'bob', v: 1, ...fields })
  const linkInputs: unknown[] = [
    hello({}),
    hello({ userId: 'Bob.Smith_2-x' }),
    hello({ extra: 'dropped' }),
    hello({ v: 0 }),
    hello({ v: -3 }),
    hello({ v: 1.5 }),
    hello({ v: 2 ** 53 }),
    hello({ v: '1' }),
    hello({ userId: '' }),
    hello({ userId: '-bob' }),
    hello({ userId: 'a'.repeat(33) }),
    hello({ userId: '\u212Aelvin' }),
    hello({ userId: 5 }),
    { t: 'hello', userId: 'bob' },
    { t: 'ping' },
    { t: 'ping', extra: 1 },
    { t: 'pong' },
    { t: 'pong', id: 'AbCdEfGh1234' },
    ...inputs,
  ]

  it('never accepts what the schema refuses, and answers what the schema answers', () => {
    expect(expectAgreement(wellFormedLinkFrame, PeerFrameSchema, linkInputs)).toBeGreaterThanOrEqual(8)
    expect(wellFormedLinkFrame(hello({ userId: 'Bob' }))).toEqual({ t: 'hello', userId: 'bob', v: 1 })
  })
})
