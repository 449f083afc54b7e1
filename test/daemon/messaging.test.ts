import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HistoryEntry, SendResult, StatusResult } from '../../src/protocol/rpc.js'
import { type DaemonProcess, eventually, pipelinedSends, startDaemonProcess, subscribe } from '../helpers/daemon.js'
import { type ServerProcess, startServerProcess } from '../helpers/server.js'

const registered = async (d: DaemonProcess) => (await d.rpc<StatusResult>('status')).server.registered

describe('messaging between real daemons', () => {
  let server: ServerProcess
  let alice: DaemonProcess
  let bob: DaemonProcess
  let carol: DaemonProcess

  beforeAll(async () => {
    server = await startServerProcess({ ttl: 5 })
    ;[alice, bob, carol] = (await Promise.all(
      ['alice', 'bob', 'carol'].map((userId) => startDaemonProcess({ userId, serverUrl: server.url })),
    )) as [DaemonProcess, DaemonProcess, DaemonProcess]
    for (const d of [alice, bob, carol]) await eventually(() => registered(d))
  })

  afterAll(async () => {
    await Promise.all([alice, bob, carol].map((d) => d?.stop()))
    await server?.stop()
  })

  it('a burst of sends to a peer never met costs one lookup and keeps its order', async () => {
    const texts = Array.from({ length: 300 }, (_, i) => `first burst ${String(i).padStart(3, '0')}`)
    // One connection, requests pipelined: the order the daemon reads them is the order sent.
    expect(await pipelinedSends(carol.socket, 'bob', texts)).toHaveLength(texts.length)
    const received = await eventually(async () => {
      const history = await bob.rpc<HistoryEntry[]>('history', { peer: 'carol', limit: 1000 })
      return history.length === texts.length ? history : undefined
    })
    expect(received.map((m) => m.text)).toEqual(texts)
  })

  it('delivers both ways among three daemons, acked, stored on both sides, over one link per pair', async () => {
    const bobEvents = await subscribe(bob.socket)
    const pairs: Array<[DaemonProcess, string]> = [
      [alice, 'bob'],
      [bob, 'alice'],
      [alice, 'carol'],
      [carol, 'alice'],
      [bob, 'carol'],
      [carol, 'bob'],
    ]
    for (const [from, to] of pairs) {
      const sent = await from.rpc<SendResult>('send', { to, text: `hello ${to}` })
      expect(sent).toMatchObject({ to, status: 'delivered' })
    }
    await eventually(() => bobEvents.events.length === 2)
    expect(bobEvents.events.every((e) => e.text === 'hello bob')).toBe(true)
    expect(bobEvents.events.map((e) => e.from).sort()).toEqual(['alice', 'carol'])
    const aliceHistory = await alice.rpc<HistoryEntry[]>('history', {})
    expect(aliceHistory.filter((m) => m.from === 'alice').every((m) => m.status === 'delivered')).toBe(true)
    expect(
      aliceHistory
        .filter((m) => m.to === 'alice')
        .map((m) => m.from)
        .sort(),
    ).toEqual(['bob', 'carol'])
    // Links are shared both ways: alice talks to two peers over two links.
    expect((await alice.rpc<StatusResult>('status')).peers.connected).toBe(2)
    bobEvents.close()
  })

  it('keeps per-peer order for a burst of pipelined sends', async () => {
    const texts = Array.from({ length: 300 }, (_, i) => `burst ${String(i).padStart(3, '0')}`)
    expect(await pipelinedSends(alice.socket, 'bob', texts)).toHaveLength(texts.length)
    const received = await eventually(async () => {
      const history = await bob.rpc<HistoryEntry[]>('history', { peer: 'alice', limit: 1000 })
      const burst = history.filter((m) => m.text.startsWith('burst ') && m.from === 'alice')
      return burst.length === texts.length ? burst : undefined
    })
    expect(received.map((m) => m.text)).toEqual(texts)
  })

  it('replays what a subscriber missed from its cursor', async () => {
    const first = await subscribe(bob.socket)
    await alice.rpc('send', { to: 'bob', text: 'before the gap' })
    await eventually(() => first.events.some((e) => e.text === 'before the gap'))
    const cursor = first.events.find((e) => e.text === 'before the gap')!.cursor
    first.close()
    await alice.rpc('send', { to: 'bob', text: 'missed one' })
    await alice.rpc('send', { to: 'bob', text: 'missed two' })
    const resumed = await subscribe(bob.socket, cursor)
    await eventually(() => resumed.events.length >= 2)
    expect(resumed.events.slice(0, 2).map((e) => e.text)).toEqual(['missed one', 'missed two'])
    await alice.rpc('send', { to: 'bob', text: 'live again' })
    await eventually(() => resumed.events.some((e) => e.text === 'live again'))
    expect(resumed.events.filter((e) => e.text === 'missed one')).toHaveLength(1)
    resumed.close()
  })

  it('answers unknown peers, blocked peers and bad text with their error codes', async () => {
    await expect(alice.rpc('send', { to: 'nobody-here', text: 'hi' })).rejects.toMatchObject({ code: 'unknown_peer' })
    await expect(alice.rpc('send', { to: 'bob', text: 'x'.repeat(64 * 1024 + 1) })).rejects.toMatchObject({ code: 'message_too_large' })
    await expect(alice.rpc('send', { to: 'bob', text: '' })).rejects.toMatchObject({ code: 'empty_message' })
    await expect(alice.rpc('send', { to: 'Not Valid!', text: 'hi' })).rejects.toMatchObject({ code: 'bad_request' })
  })
})
