import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HistoryEntry, SendResult } from '../../src/protocol/rpc.js'
import { type DaemonProcess, eventually, startDaemonProcess, startRegisteredDaemons, status } from '../helpers/daemon.js'
import { connectRawPeer } from '../helpers/raw-peer.js'
import { restartServerProcess, type ServerProcess, startServerProcess } from '../helpers/server.js'

describe('identity: nobody can pose as someone else', () => {
  let server: ServerProcess
  let alice: DaemonProcess
  let bob: DaemonProcess

  beforeAll(async () => {
    server = await startServerProcess({ ttl: 5 })
    ;[alice, bob] = (await startRegisteredDaemons(server.url, ['alice', 'bob'])) as [DaemonProcess, DaemonProcess]
    expect((await alice.rpc<SendResult>('send', { to: 'bob', text: 'pin me' })).status).toBe('delivered')
  })

  afterAll(async () => {
    await alice?.stop()
    await bob?.stop()
    await server?.stop()
  })

  it('a second daemon with another key cannot register an existing user id', async () => {
    const impostor = await startDaemonProcess({ userId: 'alice', serverUrl: server.url })
    try {
      const s = await eventually(async () => {
        const st = await status(impostor)
        return st.server.error ? st : undefined
      })
      expect(s.server.registered).toBe(false)
      expect(s.server.error).toMatch(/another key|owned|taken|409|bound/i)
      expect(s.server.errorCode).toBe('user_id_taken')
      expect((await status(alice)).server.registered).toBe(true)
    } finally {
      await impostor.stop()
    }
  })

  it('a peer link claiming to be alice with another key is closed, and nothing it sends is stored', async () => {
    const fake = await connectRawPeer({ port: bob.port, userId: 'alice' })
    fake.write(`${JSON.stringify({ t: 'msg', id: 'forged-message-1', text: 'I am alice, honest', at: Date.now() })}\n`)
    await fake.closed
    expect(fake.lines.some((l) => l.includes('"ack"'))).toBe(false)
    const history = await bob.rpc<HistoryEntry[]>('history', { includeMuted: true })
    expect(history.some((m) => m.text.includes('honest'))).toBe(false)
    expect(bob.output()).not.toMatch(/uncaught/i)
    // Bob still serves the real alice, and still writes to her: an impostor is not a key change.
    expect((await alice.rpc<SendResult>('send', { to: 'bob', text: 'still me' })).status).toBe('delivered')
    expect((await status(bob)).peers.keyChanged).toBe(0)
    const peers = await bob.rpc<Array<{ userId: string; keyChanged?: boolean }>>('peers')
    expect(peers.find((p) => p.userId === 'alice')?.keyChanged).toBeUndefined()
    expect((await bob.rpc<SendResult>('send', { to: 'alice', text: 'not fooled' })).status).toBe('delivered')
  })
})

describe('a peer whose key changed', () => {
  it('is refused and reported: peers and status say so, and sends are refused with key_changed', async () => {
    let server = await startServerProcess({ ttl: 5 })
    const [alice, bob] = (await startRegisteredDaemons(server.url, ['alice', 'bob'])) as [DaemonProcess, DaemonProcess]
    let newBob: DaemonProcess | undefined
    try {
      expect((await alice.rpc<SendResult>('send', { to: 'bob', text: 'pin me' })).status).toBe('delivered')
      // bob loses his profile; the in-memory server forgets his binding when it restarts,
      // so a new key can take the name there. alice's pin remembers the old key.
      await bob.stop()
      const port = server.port
      await server.stop()
      server = await restartServerProcess(port, { ttl: 5 })
      const reborn = (await startRegisteredDaemons(server.url, ['bob']))[0] as DaemonProcess
      newBob = reborn
      // alice's own status says "registered" until her next keep-alive meets the restarted server:
      // wait until the new server knows her, or bob cannot verify her when she calls.
      await eventually(async () => (await fetch(`${server.url}/v1/peers/alice`)).ok)

      expect((await alice.rpc<SendResult>('send', { to: 'bob', text: 'who are you?', timeout: 2 })).status).toBe('queued')
      await expect(alice.rpc('send', { to: 'bob', text: 'again' })).rejects.toMatchObject({ code: 'key_changed' })
      const peers =
        await alice.rpc<Array<{ userId: string; keyChanged?: boolean; fingerprint?: string; presentedFingerprint?: string }>>('peers')
      const entry = peers.find((p) => p.userId === 'bob')
      expect(entry?.keyChanged).toBe(true)
      expect(entry?.fingerprint).not.toBe(entry?.presentedFingerprint)
      expect((await status(alice)).peers.keyChanged).toBe(1)
      // Nothing reached the newcomer.
      expect(await reborn.rpc<HistoryEntry[]>('history', { includeMuted: true })).toEqual([])

      // alice compares fingerprints with bob out of band, then trusts the new key: the queued
      // message goes to it, and so do new ones.
      // A fingerprint that is not bob's changes nothing; the one bob read out (typed any way) is pinned.
      await expect(alice.rpc('trust', { peer: 'bob', fingerprint: '0000-1111-2222-3333-4444' })).rejects.toMatchObject({
        code: 'fingerprint_mismatch',
      })
      expect((await status(alice)).peers.keyChanged).toBe(1)
      const compared = (await status(reborn)).fingerprint.toUpperCase().replaceAll('-', '')
      const trusted = await alice.rpc<{ changed: boolean; fingerprint: string; previousFingerprint?: string }>('trust', {
        peer: 'bob',
        fingerprint: compared,
      })
      expect(trusted.changed).toBe(true)
      expect(trusted.fingerprint).toBe((await status(reborn)).fingerprint)
      expect(trusted.previousFingerprint).toBe(entry?.fingerprint)
      expect((await alice.rpc<SendResult>('send', { to: 'bob', text: 'welcome back' })).status).toBe('delivered')
      const received = await eventually(async () => {
        const h = await reborn.rpc<HistoryEntry[]>('history', {})
        return h.length === 2 ? h : undefined
      })
      expect(received.map((m) => m.text)).toEqual(['who are you?', 'welcome back'])
      expect((await status(alice)).peers.keyChanged).toBe(0)
      expect((await alice.rpc<{ changed: boolean }>('trust', { peer: 'bob' })).changed).toBe(false)
    } finally {
      await Promise.all([alice.stop(), newBob?.stop()])
      await server.stop()
    }
  })
})
