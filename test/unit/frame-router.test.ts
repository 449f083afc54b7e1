import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { FrameRouter, type RoutedConnection } from '../../src/daemon/frame-router.js'
import { decodePeerFrame } from '../../src/protocol/peer-frames.js'

function harness(peerRate: { perSecond: number; burst: number } | null = null) {
  const calls: string[] = []
  const logLines: Array<{ msg: string; suppressed?: number }> = []
  const router = new FrameRouter({
    inbox: { receive: (peer, _conn, frame) => calls.push(`receive ${peer} ${frame.id}`) },
    outbox: {
      acked: (peer, _conn, id) => calls.push(`acked ${peer} ${id}`),
      refused: (peer, _conn, id, reason) => calls.push(`refused ${peer} ${id} ${reason}`),
    },
    log: pino({ level: 'warn' }, { write: (line: string) => logLines.push(JSON.parse(line)) }),
    peerRate,
  })
  const sent: unknown[] = []
  const pauses: number[] = []
  const closes: string[] = []
  const conn: RoutedConnection = {
    remoteKey: 'ka',
    closed: false,
    send: (frame) => sent.push(frame),
    close: (reason) => {
      closes.push(reason)
      conn.closed = true
    },
    pauseFor: (ms) => pauses.push(ms),
  }
  const route = (line: string) => router.route('alice', conn, decodePeerFrame(line))
  return { calls, sent, pauses, closes, logLines, route }
}

const msg = (id: string) => JSON.stringify({ t: 'msg', id, text: 'hi', at: 1 })

describe('frame router', () => {
  it('sends messages to the inbox, acks and nacks to the outbox, and answers pings itself', () => {
    const { calls, sent, route } = harness()
    route(msg('message-0001'))
    route(JSON.stringify({ t: 'ack', id: 'message-0002' }))
    route(JSON.stringify({ t: 'nack', id: 'message-0003', code: 'too_large', message: 'too big' }))
    route(JSON.stringify({ t: 'ping' }))
    expect(calls).toEqual(['receive alice message-0001', 'acked alice message-0002', 'refused alice message-0003 too_large: too big'])
    expect(sent).toEqual([{ t: 'pong' }])
  })

  it('nacks a malformed message that has an id, and drops one without', () => {
    const { calls, sent, route } = harness()
    route(JSON.stringify({ t: 'msg', id: 'message-0004', text: 42, at: 1 }))
    route('{"t":"msg"')
    expect(calls).toEqual([])
    expect(sent).toHaveLength(1)
    expect(sent[0]).toMatchObject({ t: 'nack', id: 'message-0004' })
  })

  it('over the inbound rate, pauses reading instead of dropping: every message still reaches the inbox', () => {
    const { calls, pauses, route } = harness({ perSecond: 1, burst: 2 })
    for (let i = 0; i < 5; i++) route(msg(`message-000${i}`))
    expect(calls).toHaveLength(5)
    expect(pauses.length).toBeGreaterThanOrEqual(3)
    expect(pauses.every((ms) => ms > 0)).toBe(true)
  })

  it('writes a few warnings per link and window, then counts the rest', () => {
    const { logLines, closes, route } = harness()
    for (let i = 0; i < 50; i++) route(JSON.stringify({ t: 'nack', id: `message-${String(i).padStart(4, '0')}`, code: 'x', message: 'no' }))
    expect(logLines).toHaveLength(5)
    expect(closes).toEqual([])
  })

  it('closes a link after 100 invalid frames, nacking those it can until then, with one line that sums up', () => {
    const { sent, closes, logLines, route } = harness()
    for (let i = 0; i < 10_000; i++) route(JSON.stringify({ t: 'msg', id: `garbage-${String(i).padStart(5, '0')}`, text: '', at: 1 }))
    expect(closes).toEqual(['too many invalid frames'])
    expect(sent).toHaveLength(100)
    expect(logLines.length).toBeLessThanOrEqual(10)
    expect(logLines.find((l) => l.msg.includes('too many invalid frames'))?.suppressed).toBe(95)
  })
})
