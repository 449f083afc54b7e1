import { describe, expect, it } from 'vitest'
import { MessageStore } from '../../src/daemon/stores/message-store.js'
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
