import { describe, expect, it } from 'vitest'
import { status, subscribe } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'

describe('block and mute', () => {
  const net = useNetwork(['alice', 'bob'])

  it('block closes the live link, refuses the blocked peer after the handshake, stores nothing; unblock lets queued messages through', async () => {
    expect((await net.alice.rpc('send', { to: 'bob', text: 'before block' })).status).toBe('delivered')
    expect((await net.bob.rpc('status')).peers.connected).toBe(1)

    const blocked = await net.bob.rpc('block', { peer: 'alice' })
    expect(blocked).toMatchObject({ peer: 'alice', changed: true, blocked: true })
    expect((await net.bob.rpc('block', { peer: 'alice' })).changed).toBe(false)
    await eventually(async () => (await status(net.bob)).peers.connected === 0)

    // Alice's daemon cannot get through: its message stays queued, bob stores nothing.
    expect((await net.alice.rpc('send', { to: 'bob', text: 'while blocked', timeout: 1 })).status).toBe('queued')
    const bobHistory = await net.bob.rpc('history', { includeMuted: true })
    expect(bobHistory.some((m) => m.text === 'while blocked')).toBe(false)
    expect((await status(net.bob)).peers.connected).toBe(0)
    // And bob cannot send to alice while he blocks her.
    await expect(net.bob.rpc('send', { to: 'alice', text: 'no' })).rejects.toMatchObject({ code: 'blocked' })

    expect((await net.bob.rpc('unblock', { peer: 'alice' })).changed).toBe(true)
    await net.alice.rpc('send', { to: 'bob', text: 'after unblock' })
    const texts = await eventually(async () => {
      const h = (await net.bob.rpc('history', { peer: 'alice' })).map((m) => m.text)
      return h.includes('after unblock') ? h : undefined
    })
    expect(texts.indexOf('while blocked')).toBeGreaterThan(-1)
    expect(texts.indexOf('while blocked')).toBeLessThan(texts.indexOf('after unblock'))
  })

  it('mute stores and acks but does not publish; history --include-muted shows them; a timed mute expires', async () => {
    const events = await subscribe(net.bob.socket)
    expect(await net.bob.rpc('mute', { peer: 'alice', for: '2s' })).toMatchObject({ changed: true, muted: true })
    expect((await net.alice.rpc('send', { to: 'bob', text: 'muted words' })).status).toBe('delivered')
    const visible = await net.bob.rpc('history', { peer: 'alice' })
    expect(visible.some((m) => m.text === 'muted words')).toBe(false)
    const all = await net.bob.rpc('history', { peer: 'alice', includeMuted: true })
    expect(all.find((m) => m.text === 'muted words')?.muted).toBe(true)

    // After expiry, messages are published again.
    await eventually(
      async () => {
        await net.alice.rpc('send', { to: 'bob', text: 'probe after mute', timeout: 5 })
        return events.events.some((e) => e.text === 'probe after mute')
      },
      { timeout: 10_000, interval: 500 },
    )
    expect(events.events.some((e) => e.text === 'muted words')).toBe(false)
    const peers = await net.bob.rpc('peers')
    expect(peers.find((p) => p.userId === 'alice')?.muted).toBe(false)
    expect((await net.bob.rpc('unmute', { peer: 'alice' })).changed).toBe(false)
    events.close()
  })
})
