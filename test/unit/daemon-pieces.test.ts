import { mkdtempSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { backoffDelay } from '../../src/daemon/backoff.js'
import { resolveStartSettings } from '../../src/daemon/daemon.js'
import { LineSplitter } from '../../src/daemon/line-splitter.js'
import { Outbox, SEND_WINDOW_BYTES } from '../../src/daemon/outbox.js'
import { decidePeer } from '../../src/daemon/peer-auth.js'
import { startCheckpointer } from '../../src/daemon/stores/checkpointer.js'
import { openDatabase } from '../../src/daemon/stores/database.js'
import { MessageStore } from '../../src/daemon/stores/message-store.js'
import { isMuted, PolicyStore } from '../../src/daemon/stores/policy-store.js'
import { WriteBatcher } from '../../src/daemon/stores/write-batcher.js'
import { MAX_SOCKET_PATH_BYTES, profilePaths, socketPathFor } from '../../src/protocol/profile.js'

const tempDb = () => openDatabase(join(mkdtempSync(join(tmpdir(), 'p2p-db-')), 'p2p.db'))

describe('backoffDelay', () => {
  it('doubles up to the cap and draws from the upper half', () => {
    const policy = { baseMs: 100, maxMs: 1000 }
    expect(backoffDelay(0, policy, () => 0)).toBe(50)
    expect(backoffDelay(0, policy, () => 1)).toBe(100)
    expect(backoffDelay(3, policy, () => 1)).toBe(800)
    expect(backoffDelay(50, policy, () => 1)).toBe(1000)
    expect(backoffDelay(50, policy, () => 0)).toBe(500)
  })
})

describe('decidePeer', () => {
  const base = { userId: 'bob', remoteKey: 'k1', blocked: false }
  it('accepts a key vouched for by the pin or the server', () => {
    expect(decidePeer({ ...base, pinnedKey: 'k1' }).ok).toBe(true)
    expect(decidePeer({ ...base, boundKey: 'k1' }).ok).toBe(true)
    expect(decidePeer({ ...base, pinnedKey: 'k1', boundKey: 'k1' }).ok).toBe(true)
  })
  it('refuses blocked peers, changed keys, keys the server does not bind, and unverifiable peers', () => {
    expect(decidePeer({ ...base, pinnedKey: 'k1', blocked: true })).toMatchObject({ ok: false, code: 'blocked' })
    expect(decidePeer({ ...base, pinnedKey: 'k0', boundKey: 'k1' })).toMatchObject({ ok: false, code: 'key_changed' })
    expect(decidePeer({ ...base, boundKey: 'k2' })).toMatchObject({ ok: false, code: 'key_mismatch' })
    expect(decidePeer(base)).toMatchObject({ ok: false, code: 'unverifiable' })
  })
})

describe('LineSplitter', () => {
  it('joins partial lines across chunks and refuses a line over the cap before it ends', () => {
    const splitter = new LineSplitter(10)
    expect(splitter.push('ab')).toEqual([])
    expect(splitter.push('c\nde\nf')).toEqual(['abc', 'de'])
    expect(splitter.push('g\n')).toEqual(['fg'])
    expect(new LineSplitter(4).push('12345')).toBe('overflow')
  })

  it('decodes a character split between two reads whole', () => {
    const bytes = Buffer.from('héllo ☃\n')
    const splitter = new LineSplitter(100)
    // Cut inside the two-byte é and inside the three-byte snowman.
    expect(splitter.push(bytes.subarray(0, 2))).toEqual([])
    expect(splitter.push(bytes.subarray(2, 8))).toEqual([])
    expect(splitter.push(bytes.subarray(8))).toEqual(['héllo ☃'])
  })
})

describe('MessageStore', () => {
  it('stores an incoming message once per (sender key, id), whatever its name', () => {
    const store = new MessageStore(tempDb())
    const m = { id: 'abcdefgh', peer: 'alice', peerKey: 'k1', text: 'hi', at: 1, muted: false }
    expect(store.receive(m)).toBeTypeOf('number')
    expect(store.receive(m)).toBeUndefined()
    // The same id from another key is another message.
    expect(store.receive({ ...m, peerKey: 'k2' })).toBeTypeOf('number')
  })

  it('keeps the outbox in order, marks delivered once, expires old messages', () => {
    const store = new MessageStore(tempDb())
    for (const [i, storedAt] of [1000, 5000, 6000].entries()) {
      store.enqueue({ id: `message${i}`, peer: 'bob', peerKey: 'kb', text: `t${i}`, at: storedAt, storedAt })
    }
    expect(store.queuedFor('bob', 0, 10).map((r) => r.text)).toEqual(['t0', 't1', 't2'])
    expect(store.markDelivered('kb', 'message1')).toBe(true)
    expect(store.markDelivered('kb', 'message1')).toBe(false)
    expect(store.expire(2000)).toEqual([{ id: 'message0', peer: 'bob' }])
    expect(store.queuedFor('bob', 0, 10).map((r) => r.text)).toEqual(['t2'])
    expect(store.counts()).toEqual({ queued: 1, failed: 1 })
  })

  it('history returns the newest N, oldest first, hiding muted unless asked', () => {
    const store = new MessageStore(tempDb())
    for (let i = 0; i < 5; i++) store.receive({ id: `incoming${i}`, peer: 'alice', peerKey: 'ka', text: `m${i}`, at: i, muted: i === 4 })
    expect(store.history({ limit: 2, includeMuted: false }).map((m) => m.text)).toEqual(['m2', 'm3'])
    expect(store.history({ limit: 2, includeMuted: true }).map((m) => m.text)).toEqual(['m3', 'm4'])
    expect(store.incomingSince(2, 10).map((m) => m.text)).toEqual(['m2', 'm3'])
  })
})

describe('PolicyStore', () => {
  it('persists blocks and mutes, says whether anything changed, and lets timed mutes lapse', () => {
    const db = tempDb()
    const policy = new PolicyStore(db)
    expect(policy.setBlocked('eve', true).changed).toBe(true)
    expect(policy.setBlocked('eve', true).changed).toBe(false)
    expect(policy.setMuted('bob', true, 2000, 1000).policy).toEqual({ blocked: false, muted: true, mutedUntil: 2000 })
    const reloaded = new PolicyStore(db)
    expect(reloaded.isBlocked('eve')).toBe(true)
    expect(reloaded.isMuted('bob', 1500)).toBe(true)
    expect(reloaded.isMuted('bob', 2500)).toBe(false)
    expect(isMuted({ blocked: false, muted: true }, Number.MAX_SAFE_INTEGER)).toBe(true)
  })
})

describe('WriteBatcher', () => {
  it('commits a turn of writes together; one failing write does not sink the others', async () => {
    const db = tempDb()
    db.exec('CREATE TABLE t (v INTEGER UNIQUE)')
    const batcher = new WriteBatcher(db)
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
    const results = await Promise.allSettled([1, 2, 2, 3].map((v) => batcher.run(() => insert.run(v).changes)))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 3 })
  })
})

describe('profile paths and start settings', () => {
  it('falls back to a short socket path when the profile path is too long', () => {
    const deep = join(tmpdir(), 'x'.repeat(120))
    const socket = socketPathFor(deep)
    expect(Buffer.byteLength(socket)).toBeLessThanOrEqual(MAX_SOCKET_PATH_BYTES)
    expect(socketPathFor(deep)).toBe(socket)
    expect(profilePaths('/tmp/p').socket).toBe('/tmp/p/p2p.sock')
  })

  it('needs --user on first start, remembers it after, refuses another user for the profile', () => {
    expect(() => resolveStartSettings({}, {})).toThrow(/--user/)
    expect(resolveStartSettings({ userId: 'Alice' }, {})).toMatchObject({ userId: 'alice', port: 0, serverUrl: 'http://127.0.0.1:5000' })
    expect(resolveStartSettings({}, { userId: 'alice', port: '7000', serverUrl: 'http://s:1' })).toEqual({
      userId: 'alice',
      port: 7000,
      serverUrl: 'http://s:1',
    })
    expect(() => resolveStartSettings({ userId: 'bob' }, { userId: 'alice' })).toThrow(/belongs to alice/)
  })
})

describe('Outbox send window', () => {
  it('keeps at most SEND_WINDOW_BYTES of text in flight and refills as acks come', async () => {
    const db = tempDb()
    const store = new MessageStore(db)
    const outbox = new Outbox(store, new WriteBatcher(db))
    const text = 'x'.repeat(60 * 1024)
    for (let i = 0; i < 100; i++) await outbox.enqueue({ id: `big-message-${i}`, peer: 'bob', peerKey: 'kb', text, at: i })
    const sent: string[] = []
    const link = { remoteKey: 'kb', closed: false, send: (frame: { id: string }) => sent.push(frame.id) }
    outbox.linkUp('bob', link)
    const windowCount = Math.ceil(SEND_WINDOW_BYTES / text.length)
    expect(sent).toHaveLength(windowCount)
    // Acks up to half the window free it; then it fills again, in order.
    for (const id of sent.slice(0, Math.ceil(windowCount / 2) + 1)) outbox.acked('bob', link, id)
    expect(sent.length).toBeGreaterThan(windowCount)
    expect(sent).toEqual(Array.from({ length: sent.length }, (_, i) => `big-message-${i}`))
  })
})

describe('Checkpointer', () => {
  it('moves the WAL into the database file from a worker thread', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'p2p-ckpt-')), 'p2p.db')
    const db = openDatabase(path)
    const store = new MessageStore(db)
    const before = statSync(path).size
    db.transaction(() => {
      for (let i = 0; i < 5000; i++)
        store.receive({ id: `incoming-${i}`, peer: 'alice', peerKey: 'ka', text: 'x'.repeat(200), at: i, muted: false })
    })()
    const checkpointer = startCheckpointer(path, 20)
    try {
      await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(before + 1_000_000), { timeout: 10_000, interval: 20 })
    } finally {
      await checkpointer.stop()
      db.close()
    }
  })
})

describe('Outbox stall detection', () => {
  it('reports a link whose messages wait too long for their acks, until an ack comes', async () => {
    const db = tempDb()
    const outbox = new Outbox(new MessageStore(db), new WriteBatcher(db))
    await outbox.enqueue({ id: 'stalled-message-1', peer: 'bob', peerKey: 'kb', text: 'hi', at: 1 })
    const link = { remoteKey: 'kb', closed: false, send: () => {} }
    const t0 = Date.now()
    outbox.linkUp('bob', link)
    expect(outbox.isStalled('bob', 1000, t0 + 500)).toBe(false)
    expect(outbox.isStalled('bob', 1000, t0 + 5000)).toBe(true)
    outbox.acked('bob', link, 'stalled-message-1')
    expect(outbox.isStalled('bob', 1000, t0 + 5000)).toBe(false)
  })
})
