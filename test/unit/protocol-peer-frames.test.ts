import { describe, expect, it } from 'vitest'
import { MAX_TEXT_BYTES } from '../../src/protocol/limits.js'
import { decodePeerFrame, encodePeerFrame, type PeerFrame, refuseInvalidUtf8 } from '../../src/protocol/peer-frames.js'

describe('decodePeerFrame', () => {
  const frames: PeerFrame[] = [
    { t: 'hello', userId: 'alice', v: 1 },
    { t: 'msg', id: 'abcdefgh1234', text: 'hi there', at: 1_700_000_000_000 },
    { t: 'ack', id: 'abcdefgh1234' },
    { t: 'nack', id: 'abcdefgh1234', code: 'message_too_large', message: 'too big' },
    { t: 'ping' },
    { t: 'pong' },
  ]

  it.each(frames)('round-trips $t', (frame) => {
    const line = encodePeerFrame(frame)
    expect(line.endsWith('\n')).toBe(true)
    expect(decodePeerFrame(line.trimEnd())).toEqual({ ok: true, frame })
  })

  it('lower-cases the user id of a hello', () => {
    const decoded = decodePeerFrame('{"t":"hello","userId":"Alice","v":1}')
    expect(decoded.ok && decoded.frame.t === 'hello' && decoded.frame.userId).toBe('alice')
  })

  it('calls non-JSON malformed', () => {
    expect(decodePeerFrame('{nope')).toMatchObject({ ok: false, code: 'malformed' })
  })

  it.each([
    ['an unknown type', '{"t":"shout"}'],
    ['no type', '{}'],
    ['a hello with a bad user id', '{"t":"hello","userId":"-x","v":1}'],
    ['an ack with a short id', '{"t":"ack","id":"short"}'],
    ['a msg with a negative time', '{"t":"msg","id":"abcdefgh","text":"x","at":-1}'],
    ['an array', '[1]'],
  ])('calls %s invalid', (_what, line) => {
    const decoded = decodePeerFrame(line)
    expect(decoded).toMatchObject({ ok: false, code: 'invalid' })
    expect(decoded.ok || decoded.message.length > 0).toBe(true)
  })

  it('names the id of a msg it refuses, so it can be nacked', () => {
    const empty = decodePeerFrame(JSON.stringify({ t: 'msg', id: 'abcdefgh', text: '', at: 1 }))
    expect(empty).toMatchObject({ ok: false, code: 'invalid', id: 'abcdefgh' })
    const huge = decodePeerFrame(JSON.stringify({ t: 'msg', id: 'abcdefgh', text: 'é'.repeat(MAX_TEXT_BYTES / 2 + 1), at: 1 }))
    expect(huge).toMatchObject({ ok: false, id: 'abcdefgh' })
    expect(!huge.ok && huge.message).toMatch(/over/)
    // An id that is itself invalid is not echoed back.
    expect(decodePeerFrame(JSON.stringify({ t: 'msg', id: 'bad id!', text: 'x', at: 1 }))).not.toHaveProperty('id')
  })

  it('accepts text at exactly the limit', () => {
    const decoded = decodePeerFrame(JSON.stringify({ t: 'msg', id: 'abcdefgh', text: 'a'.repeat(MAX_TEXT_BYTES), at: 1 }))
    expect(decoded.ok).toBe(true)
  })
})

describe('refuseInvalidUtf8', () => {
  const withBadBytes = (before: string, after: string) =>
    Buffer.concat([Buffer.from(before), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(after)])

  it('refuses a msg whose text is not UTF-8, naming its id so it can be nacked', () => {
    const line = withBadBytes('{"t":"msg","id":"badutf8-0001","text":"a', 'b","at":1}')
    expect(refuseInvalidUtf8(line)).toEqual({ ok: false, code: 'invalid_utf8', message: 'frame is not valid UTF-8', id: 'badutf8-0001' })
  })

  it('names no id when it cannot be recovered, nor for frames other than msg', () => {
    expect(refuseInvalidUtf8(withBadBytes('{"t":"msg","id":"', '","text":"x","at":1}'))).not.toHaveProperty('id')
    expect(refuseInvalidUtf8(withBadBytes('{"t":"ack","id":"abcdefgh","x":"', '"}'))).not.toHaveProperty('id')
    expect(refuseInvalidUtf8(withBadBytes('not json', ''))).toMatchObject({ ok: false, code: 'invalid_utf8' })
  })
})
