import { describe, expect, it } from 'vitest'
import { type DaemonProcess, pipelinedSends, subscribe, testClient } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'

describe('messaging between real daemons', () => {
  const net = useNetwork(['alice', 'bob', 'carol'], { ttl: 5 })

  it('status counts online peers without anyone asking discover first', async () => {
    await eventually(async () => (await net.alice.rpc('status')).peers.online === 2)
  })

  it('a burst of sends to a peer never met costs one lookup and keeps its order', async () => {
    const texts = Array.from({ length: 300 }, (_, i) => `first burst ${String(i).padStart(3, '0')}`)
    // One connection, requests pipelined: the order the daemon reads them is the order sent.
    expect(await pipelinedSends(net.carol.socket, 'bob', texts)).toHaveLength(texts.length)
    const received = await eventually(async () => {
      const history = await net.bob.rpc('history', { peer: 'carol', limit: 1000 })
      return history.length === texts.length ? history : undefined
    })
    expect(received.map((m) => m.text)).toEqual(texts)
  })

  it('delivers both ways among three daemons, acked, stored on both sides, over one link per pair', async () => {
    const bobEvents = await subscribe(net.bob.socket)
    const pairs: Array<[DaemonProcess, string]> = [
      [net.alice, 'bob'],
      [net.bob, 'alice'],
      [net.alice, 'carol'],
      [net.carol, 'alice'],
      [net.bob, 'carol'],
      [net.carol, 'bob'],
    ]
    for (const [from, to] of pairs) {
      const sent = await from.rpc('send', { to, text: `hello ${to}` })
      expect(sent).toMatchObject({ to, status: 'delivered' })
    }
    await eventually(() => bobEvents.events.length === 2)
    expect(bobEvents.events.every((e) => e.text === 'hello bob')).toBe(true)
    expect(bobEvents.events.map((e) => e.from).sort()).toEqual(['alice', 'carol'])
    const aliceHistory = await net.alice.rpc('history', {})
    expect(aliceHistory.filter((m) => m.from === 'alice').every((m) => m.status === 'delivered')).toBe(true)
    expect(
      aliceHistory
        .filter((m) => m.to === 'alice')
        .map((m) => m.from)
        .sort(),
    ).toEqual(['bob', 'carol'])
    // Links are shared both ways: alice talks to two peers over two links.
    expect((await net.alice.rpc('status')).peers.connected).toBe(2)
    bobEvents.close()
  })

  it('a send answered "delivered" reads as delivered in a history asked the moment the answer arrives', async () => {
    // The answer is written before its delivered mark commits (the mark commits at the end of
    // that turn); a request written back on the same connection must still find it committed.
    const client = testClient(net.alice.socket)
    try {
      for (let i = 0; i < 40; i++) {
        const sent = (await client.call('send', { to: 'bob', text: `at once ${i}` })) as { id: string; status: string }
        expect(sent.status).toBe('delivered')
        const [newest] = (await client.call('history', { peer: 'bob', limit: 1 })) as Array<{ id: string; status?: string }>
        expect(newest).toMatchObject({ id: sent.id, status: 'delivered' })
      }
    } finally {
      client.close()
    }
  })

  it('keeps per-peer order for a burst of pipelined sends', async () => {
    const texts = Array.from({ length: 300 }, (_, i) => `burst ${String(i).padStart(3, '0')}`)
    expect(await pipelinedSends(net.alice.socket, 'bob', texts)).toHaveLength(texts.length)
    const received = await eventually(async () => {
      const history = await net.bob.rpc('history', { peer: 'alice', limit: 1000 })
      const burst = history.filter((m) => m.text.startsWith('burst ') && m.from === 'alice')
      return burst.length === texts.length ? burst : undefined
    })
    expect(received.map((m) => m.text)).toEqual(texts)
  })

  it('replays what a subscriber missed from its cursor', async () => {
    const first = await subscribe(net.bob.socket)
    await net.alice.rpc('send', { to: 'bob', text: 'before the gap' })
    await eventually(() => first.events.some((e) => e.text === 'before the gap'))
    const cursor = first.events.find((e) => e.text === 'before the gap')!.cursor
    first.close()
    await net.alice.rpc('send', { to: 'bob', text: 'missed one' })
    await net.alice.rpc('send', { to: 'bob', text: 'missed two' })
    const resumed = await subscribe(net.bob.socket, cursor)
    await eventually(() => resumed.events.length >= 2)
    expect(resumed.events.slice(0, 2).map((e) => e.text)).toEqual(['missed one', 'missed two'])
    await net.alice.rpc('send', { to: 'bob', text: 'live again' })
    await eventually(() => resumed.events.some((e) => e.text === 'live again'))
    expect(resumed.events.filter((e) => e.text === 'missed one')).toHaveLength(1)
    resumed.close()
  })

  it('answers unknown peers, blocked peers and bad text with their error codes', async () => {
    await expect(net.alice.rpc('send', { to: 'nobody-here', text: 'hi' })).rejects.toMatchObject({ code: 'unknown_peer' })
    await expect(net.alice.rpc('send', { to: 'bob', text: 'x'.repeat(64 * 1024 + 1) })).rejects.toMatchObject({ code: 'message_too_large' })
    await expect(net.alice.rpc('send', { to: 'bob', text: '' })).rejects.toMatchObject({ code: 'empty_message' })
    await expect(net.alice.rpc('send', { to: 'Not Valid!', text: 'hi' })).rejects.toMatchObject({ code: 'bad_request' })
  })
})
