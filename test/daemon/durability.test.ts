import { beforeAll, describe, expect, it } from 'vitest'
import { type DaemonProcess, pipelinedSends, startDaemonProcess } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'

const texts = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix} ${String(i).padStart(4, '0')}`)

async function receivedFrom(d: DaemonProcess, peer: string, prefix: string): Promise<string[]> {
  const history = await d.rpc('history', { peer, limit: 100_000 })
  return history.filter((m) => m.from === peer && m.text.startsWith(prefix)).map((m) => m.text)
}

describe('durable delivery', () => {
  const net = useNetwork(['alice', 'bob'], { ttl: 3 })

  beforeAll(async () => {
    // First contact pins keys both ways.
    expect((await net.alice.rpc('send', { to: 'bob', text: 'first contact' })).status).toBe('delivered')
  })

  it('queues while the peer is offline and delivers once, in order, when it is back; restarts keep everything', async () => {
    expect(await net.bob.stop()).toBe(0)
    const queued = texts(20, 'offline')
    for (const text of queued) expect((await net.alice.rpc('send', { to: 'bob', text, timeout: 2 })).status).toBe('queued')
    await net.alice.rpc('block', { peer: 'mallory' })
    await net.alice.rpc('mute', { peer: 'carol' })
    // The sender restarts too: outbox, policy, pins and history survive it.
    expect(await net.alice.stop()).toBe(0)
    net.alice = await startDaemonProcess({ home: net.alice.home, serverUrl: net.server.url })
    const status = await net.alice.rpc('status')
    expect(status.userId).toBe('alice')
    expect(status.outbox.queued).toBe(20)
    const peers = await net.alice.rpc('peers')
    expect(peers.find((p) => p.userId === 'mallory')?.blocked).toBe(true)
    expect(peers.find((p) => p.userId === 'carol')?.muted).toBe(true)

    net.bob = await startDaemonProcess({ home: net.bob.home, serverUrl: net.server.url })
    const got = await eventually(
      async () => {
        const r = await receivedFrom(net.bob, 'alice', 'offline')
        return r.length >= queued.length ? r : undefined
      },
      { timeout: 30_000 },
    )
    expect(got).toEqual(queued)
    await eventually(async () => (await net.alice.rpc('status')).outbox.queued === 0)
    const history = await net.alice.rpc('history', { peer: 'bob', limit: 100 })
    expect(history.filter((m) => m.text.startsWith('offline')).every((m) => m.status === 'delivered')).toBe(true)
    expect(history.some((m) => m.text === 'first contact')).toBe(true)
  })

  it('kill -9 of the sender in the middle of 1,000 messages: after restart each arrives exactly once, in order', async () => {
    const all = texts(1000, 'sender-crash')
    let killed: Promise<void> | undefined
    const answered = await pipelinedSends(net.alice.socket, 'bob', all, (count) => {
      if (count >= 400 && !killed) killed = net.alice.kill()
    })
    await killed
    expect(answered.length).toBeGreaterThanOrEqual(400)
    net.alice = await startDaemonProcess({ home: net.alice.home, serverUrl: net.server.url })
    await eventually(async () => (await net.alice.rpc('status')).outbox.queued === 0, { timeout: 30_000 })
    const got = await receivedFrom(net.bob, 'alice', 'sender-crash')
    // Exactly once, in order: a prefix of what was sent, containing every send that was answered.
    expect(got).toEqual(all.slice(0, got.length))
    expect(got.length).toBeGreaterThanOrEqual(answered.length)
  })

  it('kill -9 of the receiver in the middle of 1,000 messages: after restart each arrives exactly once, in order', async () => {
    const all = texts(1000, 'receiver-crash')
    const answered = await pipelinedSends(net.alice.socket, 'bob', all)
    expect(answered).toHaveLength(1000)
    await eventually(async () => (await receivedFrom(net.bob, 'alice', 'receiver-crash')).length > 0)
    await net.bob.kill()
    net.bob = await startDaemonProcess({ home: net.bob.home, serverUrl: net.server.url })
    await eventually(async () => (await net.alice.rpc('status')).outbox.queued === 0, { timeout: 30_000 })
    expect(await receivedFrom(net.bob, 'alice', 'receiver-crash')).toEqual(all)
  })
})
