import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HistoryEntry, SendResult, StatusResult } from '../../src/protocol/rpc.js'
import { type DaemonProcess, eventually, pipelinedSends, startDaemonProcess } from '../helpers/daemon.js'
import { type ServerProcess, startServerProcess } from '../helpers/server.js'

const registered = async (d: DaemonProcess) => (await d.rpc<StatusResult>('status')).server.registered
const texts = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix} ${String(i).padStart(4, '0')}`)

async function receivedFrom(d: DaemonProcess, peer: string, prefix: string): Promise<string[]> {
  const history = await d.rpc<HistoryEntry[]>('history', { peer, limit: 100_000 })
  return history.filter((m) => m.from === peer && m.text.startsWith(prefix)).map((m) => m.text)
}

describe('durable delivery', () => {
  let server: ServerProcess
  let alice: DaemonProcess
  let bob: DaemonProcess

  beforeAll(async () => {
    server = await startServerProcess({ ttl: 3 })
    alice = await startDaemonProcess({ userId: 'alice', serverUrl: server.url })
    bob = await startDaemonProcess({ userId: 'bob', serverUrl: server.url })
    await eventually(() => registered(alice))
    await eventually(() => registered(bob))
    // First contact pins keys both ways.
    expect((await alice.rpc<SendResult>('send', { to: 'bob', text: 'first contact' })).status).toBe('delivered')
  })

  afterAll(async () => {
    await alice?.stop()
    await bob?.stop()
    await server?.stop()
  })

  it('queues while the peer is offline and delivers once, in order, when it is back; restarts keep everything', async () => {
    expect(await bob.stop()).toBe(0)
    const queued = texts(20, 'offline')
    for (const text of queued) expect((await alice.rpc<SendResult>('send', { to: 'bob', text, timeout: 2 })).status).toBe('queued')
    await alice.rpc('block', { peer: 'mallory' })
    await alice.rpc('mute', { peer: 'carol' })
    // The sender restarts too: outbox, policy, pins and history survive it.
    expect(await alice.stop()).toBe(0)
    alice = await startDaemonProcess({ home: alice.home, serverUrl: server.url })
    const status = await alice.rpc<StatusResult>('status')
    expect(status.userId).toBe('alice')
    expect(status.outbox.queued).toBe(20)
    const peers = await alice.rpc<Array<{ userId: string; blocked: boolean; muted: boolean }>>('peers')
    expect(peers.find((p) => p.userId === 'mallory')?.blocked).toBe(true)
    expect(peers.find((p) => p.userId === 'carol')?.muted).toBe(true)

    bob = await startDaemonProcess({ home: bob.home, serverUrl: server.url })
    const got = await eventually(async () => {
      const r = await receivedFrom(bob, 'alice', 'offline')
      return r.length >= queued.length ? r : undefined
    }, 30_000)
    expect(got).toEqual(queued)
    await eventually(async () => (await alice.rpc<StatusResult>('status')).outbox.queued === 0)
    const history = await alice.rpc<HistoryEntry[]>('history', { peer: 'bob', limit: 100 })
    expect(history.filter((m) => m.text.startsWith('offline')).every((m) => m.status === 'delivered')).toBe(true)
    expect(history.some((m) => m.text === 'first contact')).toBe(true)
  })

  it('kill -9 of the sender in the middle of 1,000 messages: after restart each arrives exactly once, in order', async () => {
    const all = texts(1000, 'sender-crash')
    let killed: Promise<void> | undefined
    const answered = await pipelinedSends(alice.socket, 'bob', all, (count) => {
      if (count >= 400 && !killed) killed = alice.kill()
    })
    await killed
    expect(answered.length).toBeGreaterThanOrEqual(400)
    alice = await startDaemonProcess({ home: alice.home, serverUrl: server.url })
    await eventually(async () => (await alice.rpc<StatusResult>('status')).outbox.queued === 0, 30_000)
    const got = await receivedFrom(bob, 'alice', 'sender-crash')
    // Exactly once, in order: a prefix of what was sent, containing every send that was answered.
    expect(got).toEqual(all.slice(0, got.length))
    expect(got.length).toBeGreaterThanOrEqual(answered.length)
  })

  it('kill -9 of the receiver in the middle of 1,000 messages: after restart each arrives exactly once, in order', async () => {
    const all = texts(1000, 'receiver-crash')
    const answered = await pipelinedSends(alice.socket, 'bob', all)
    expect(answered).toHaveLength(1000)
    await eventually(async () => (await receivedFrom(bob, 'alice', 'receiver-crash')).length > 0)
    await bob.kill()
    bob = await startDaemonProcess({ home: bob.home, serverUrl: server.url })
    await eventually(async () => (await alice.rpc<StatusResult>('status')).outbox.queued === 0, 30_000)
    expect(await receivedFrom(bob, 'alice', 'receiver-crash')).toEqual(all)
  })
})
