import { describe, expect, it } from 'vitest'
import { MessageStore, OUTBOX_COUNTS_SQL } from '../../src/daemon/stores/message-store.js'
import { tempDb } from '../helpers/temp-db.js'

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

describe('MessageStore queries that one-shot commands make', () => {
  it('count the outbox from its own indexes, never by scanning the history', () => {
    const db = tempDb()
    const plan = (sql: string) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all()
        .map((row) => (row as { detail: string }).detail)
    const counts = plan(OUTBOX_COUNTS_SQL)
    expect(counts.some((d) => d.includes('messages_outbox'))).toBe(true)
    expect(counts.some((d) => d.includes('messages_failed'))).toBe(true)
    expect(counts.some((d) => /^SCAN messages$/.test(d))).toBe(false)
    const store = new MessageStore(db)
    store.enqueue({ id: 'queued-message', peer: 'bob', peerKey: 'kb', text: 'q', at: 1, storedAt: 1 })
    store.enqueue({ id: 'failed-message', peer: 'bob', peerKey: 'kb', text: 'f', at: 1, storedAt: 1 })
    store.markFailed('kb', 'failed-message', 'too old')
    expect(store.counts()).toEqual({ queued: 1, failed: 1 })
  })
})
