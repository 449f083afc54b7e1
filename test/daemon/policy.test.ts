import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HistoryEntry, PolicyResult, SendResult, StatusResult } from '../../src/protocol/rpc.js'
import { type DaemonProcess, eventually, startNetwork, status, stopNetwork, subscribe } from '../helpers/daemon.js'
import type { ServerProcess } from '../helpers/server.js'

describe('block and mute', () => {
  let server: ServerProcess
  let alice: DaemonProcess
  let bob: DaemonProcess

  beforeAll(async () => {
    ;({
      server,
      daemons: [alice, bob],
    } = await startNetwork(['alice', 'bob']))
  })

  afterAll(async () => {
    await stopNetwork(server, alice, bob)
  })

  it('block closes the live link, refuses the blocked peer after the handshake, stores nothing; unblock lets queued messages through', async () => {
    expect((await alice.rpc<SendResult>('send', { to: 'bob', text: 'before block' })).status).toBe('delivered')
    expect((await bob.rpc<StatusResult>('status')).peers.connected).toBe(1)

    const blocked = await bob.rpc<PolicyResult>('block', { peer: 'alice' })
    expect(blocked).toMatchObject({ peer: 'alice', changed: true, blocked: true })
    expect((await bob.rpc<PolicyResult>('block', { peer: 'alice' })).changed).toBe(false)
    await eventually(async () => (await status(bob)).peers.connected === 0)

    // Alice's daemon cannot get through: its message stays queued, bob stores nothing.
    expect((await alice.rpc<SendResult>('send', { to: 'bob', text: 'while blocked', timeout: 1 })).status).toBe('queued')
    const bobHistory = await bob.rpc<HistoryEntry[]>('history', { includeMuted: true })
    expect(bobHistory.some((m) => m.text === 'while blocked')).toBe(false)
    expect((await status(bob)).peers.connected).toBe(0)
    // And bob cannot send to alice while he blocks her.
    await expect(bob.rpc('send', { to: 'alice', text: 'no' })).rejects.toMatchObject({ code: 'blocked' })

    expect((await bob.rpc<PolicyResult>('unblock', { peer: 'alice' })).changed).toBe(true)
    await alice.rpc('send', { to: 'bob', text: 'after unblock' })
    const texts = await eventually(async () => {
      const h = (await bob.rpc<HistoryEntry[]>('history', { peer: 'alice' })).map((m) => m.text)
      return h.includes('after unblock') ? h : undefined
    })
    expect(texts.indexOf('while blocked')).toBeGreaterThan(-1)
    expect(texts.indexOf('while blocked')).toBeLessThan(texts.indexOf('after unblock'))
  })

  it('mute stores and acks but does not publish; history --include-muted shows them; a timed mute expires', async () => {
    const events = await subscribe(bob.socket)
    expect(await bob.rpc<PolicyResult>('mute', { peer: 'alice', for: '2s' })).toMatchObject({ changed: true, muted: true })
    expect((await alice.rpc<SendResult>('send', { to: 'bob', text: 'muted words' })).status).toBe('delivered')
    const visible = await bob.rpc<HistoryEntry[]>('history', { peer: 'alice' })
    expect(visible.some((m) => m.text === 'muted words')).toBe(false)
    const all = await bob.rpc<HistoryEntry[]>('history', { peer: 'alice', includeMuted: true })
    expect(all.find((m) => m.text === 'muted words')?.muted).toBe(true)

    // After expiry, messages are published again.
    await eventually(
      async () => {
        await alice.rpc('send', { to: 'bob', text: 'probe after mute', timeout: 5 })
        return events.events.some((e) => e.text === 'probe after mute')
      },
      10_000,
      500,
    )
    expect(events.events.some((e) => e.text === 'muted words')).toBe(false)
    const peers = await bob.rpc<Array<{ userId: string; muted: boolean }>>('peers')
    expect(peers.find((p) => p.userId === 'alice')?.muted).toBe(false)
    expect((await bob.rpc<PolicyResult>('unmute', { peer: 'alice' })).changed).toBe(false)
    events.close()
  })
})
