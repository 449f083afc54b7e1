import { describe, expect, it } from 'vitest'
import { DEPOSIT_DUE_SQL } from '../../src/daemon/stores/deposit-store.js'
import { MessageStore, OUTBOX_COUNTS_SQL, QUEUED_FOR_SQL, REKEY_QUEUED_SQL, statementSizes } from '../../src/daemon/stores/message-store.js'
import { tempDb } from '../helpers/temp-db.js'

describe('MessageStore', () => {
  it('stores an incoming message once per (sender, id), whatever key it came with', () => {
    const store = new MessageStore(tempDb())
    const m = { id: 'abcdefgh', peer: 'alice', peerKey: 'k1', text: 'hi', at: 1, muted: false }
    expect(store.receive(m)).toBeTypeOf('number')
    expect(store.receive(m)).toBeUndefined()
    // A sender whose key changed (trusted again) and resends what it had queued: still one copy.
    expect(store.receive({ ...m, peerKey: 'k2' })).toBeUndefined()
    // The same id from another sender is another message.
    expect(store.receive({ ...m, peer: 'carol' })).toBeTypeOf('number')
  })

  it('keeps the outbox in order, marks delivered once, expires old messages', () => {
    const store = new MessageStore(tempDb())
    const seqs = [1000, 5000, 6000].map((storedAt, i) =>
      store.enqueue({ id: `message${i}`, peer: 'bob', peerKey: 'kb', text: `t${i}`, at: storedAt, storedAt }),
    )
    expect(store.queuedFor('bob', 0, 10).map((r) => r.text)).toEqual(['t0', 't1', 't2'])
    expect(store.markDelivered(seqs[1] as number)).toBe(true)
    expect(store.markDelivered(seqs[1] as number)).toBe(false)
    expect(store.expire(2000)).toEqual([{ id: 'message0', peer: 'bob' }])
    expect(store.queuedFor('bob', 0, 10).map((r) => r.text)).toEqual(['t2'])
    expect(store.counts()).toEqual({ queued: 1, failed: 1 })
  })

  it('enqueues many rows in order, in statements of up to 64, each with the seq it was stored under', () => {
    const store = new MessageStore(tempDb())
    store.receive({ id: 'before-them', peer: 'bob', peerKey: 'kb', text: 'in', at: 1, muted: false })
    const rows = outgoingRows(150)
    const seqs = store.enqueueMany(rows)
    expect(seqs).toHaveLength(150)
    const queued = [...store.queuedFor('bob', 0, 200), ...store.queuedFor('carol', 0, 200)].sort((a, b) => a.seq - b.seq)
    expect(queued.map((r) => [r.seq, r.id])).toEqual(rows.map((r, i) => [seqs[i], r.id]))
    expect(store.enqueueMany([])).toEqual([])
  })

  it('stores many incoming messages at once, in order, each once per (sender, id), also within one statement', () => {
    const store = new MessageStore(tempDb())
    const m = (i: number, peer = i % 2 ? 'alice' : 'carol') => ({ id: `in-${i}`, peer, peerKey: 'k', text: `t${i}`, at: i, muted: false })
    expect(store.receive(m(5))).toBeTypeOf('number')
    // 150 messages in statements of 64, 64, 16, 4 and 2: in-5 was stored before; in-7 comes again
    // in another statement; in-9 from another sender is another message; in-200 comes twice in the
    // last statement.
    const batch = Array.from({ length: 146 }, (_, i) => m(i))
    batch.push(m(7), m(9, 'dave'), m(200), m(200))
    const seqs = store.receiveMany(batch)
    expect(seqs).toHaveLength(150)
    const duplicates = [5, 146, 149]
    for (const [i, seq] of seqs.entries()) {
      if (duplicates.includes(i)) expect(seq, `message ${i}`).toBeUndefined()
      else expect(seq, `message ${i}`).toBeTypeOf('number')
    }
    const stored = seqs.filter((seq): seq is number => seq !== undefined)
    expect(stored).toEqual([...stored].sort((a, b) => a - b))
    expect(new Set(stored).size).toBe(147)
    expect(store.history({ limit: 500, includeMuted: true }).map((row) => `${row.peer} ${row.id}`)).toContain('dave in-9')
  })

  it('cuts a batch into statements of powers of two up to 64, so few statements are ever prepared', () => {
    expect(statementSizes(0)).toEqual([])
    expect(statementSizes(1)).toEqual([1])
    expect(statementSizes(37)).toEqual([32, 4, 1])
    expect(statementSizes(64)).toEqual([64])
    expect(statementSizes(150)).toEqual([64, 64, 16, 4, 2])
    for (let n = 0; n < 300; n++) expect(statementSizes(n).reduce((a, b) => a + b, 0)).toBe(n)
  })

  it('marks many rows delivered at once, in statements of up to 64, only those named and only once', () => {
    const store = new MessageStore(tempDb())
    const rows = outgoingRows(150)
    const seqs = store.enqueueMany(rows)
    // 70 rows: statements of 64, 4 and 2; then 3: of 2 and 1.
    const first = seqs.filter((_, i) => i % 2 === 1).slice(0, 70)
    const second = [seqs[0], seqs[2], seqs[4]] as number[]
    expect(store.markDeliveredMany(first)).toBe(70)
    expect(store.markDeliveredMany(second)).toBe(3)
    expect(store.markDeliveredMany([...second, ...first.slice(0, 5)])).toBe(0)
    expect(store.markDeliveredMany([])).toBe(0)
    const marked = new Set([...first, ...second])
    const queued = [...store.queuedFor('bob', 0, 200), ...store.queuedFor('carol', 0, 200)].map((r) => r.seq).sort((a, b) => a - b)
    expect(queued).toEqual(seqs.filter((seq) => !marked.has(seq)))
    expect(store.history({ limit: 200, includeMuted: true }).filter((m) => m.status === 'delivered')).toHaveLength(73)
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
    const failed = store.enqueue({ id: 'failed-message', peer: 'bob', peerKey: 'kb', text: 'f', at: 1, storedAt: 1 })
    store.markFailed(failed, 'too old')
    expect(store.counts()).toEqual({ queued: 1, failed: 1 })
  })
})

describe("MessageStore reads of one peer's queue", () => {
  it("read the outbox index, not the peer's history, and find the queue behind a delivered history", () => {
    const db = tempDb()
    const plan = (sql: string, ...params: Array<string | number>) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((row) => (row as { detail: string }).detail)
        .join('; ')
    for (const found of [plan(QUEUED_FOR_SQL, 'bob', 0, 1), plan(REKEY_QUEUED_SQL, 'kb2', 'bob'), plan(DEPOSIT_DUE_SQL, 'bob', 1, 1)]) {
      expect(found).toContain('messages_outbox')
      expect(found).not.toContain('messages_peer')
    }
    const store = new MessageStore(db)
    const row = (id: string) => ({ id, peer: 'bob', peerKey: 'kb', text: id, at: 1, storedAt: 1 })
    const delivered = store.enqueueMany(Array.from({ length: 500 }, (_, i) => row(`delivered-${i}`)))
    store.markDeliveredMany(delivered)
    store.enqueueMany([row('queued-1'), row('queued-2')])
    expect(store.queuedFor('bob', 0, 10).map((r) => r.id)).toEqual(['queued-1', 'queued-2'])
    expect(store.rekeyQueued('bob', 'kb2')).toBe(2)
    expect(store.queuedFor('bob', 0, 10).map((r) => r.peerKey)).toEqual(['kb2', 'kb2'])
    // Text counts too: the read stops at the row that reaches maxChars, and one row always comes.
    store.enqueueMany([row('x'.repeat(10)), row('y'.repeat(10)), row('z'.repeat(10))])
    const ids = (maxChars: number) => store.queuedFor('bob', 0, 10, maxChars).map((r) => r.id)
    expect(ids(8 + 8 + 10)).toEqual(['queued-1', 'queued-2', 'x'.repeat(10)])
    expect(ids(8 + 8 + 11)).toEqual(['queued-1', 'queued-2', 'x'.repeat(10), 'y'.repeat(10)])
    expect(ids(1)).toEqual(['queued-1'])
  })
})

describe('MessageStore writes on the hot path', () => {
  const plan = (db: ReturnType<typeof tempDb>, sql: string) =>
    db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all()
      .map((row) => (row as { detail: string }).detail)

  it('sending touches no random index: outgoing rows are not in the dedupe index', () => {
    const db = tempDb()
    const indexes = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'`).all() as Array<{
      name: string
      sql: string
    }>
    const dedupe = indexes.filter((index) => /\bid\b/.test(index.sql))
    expect(dedupe.map((index) => index.name)).toEqual(['messages_dedupe_in'])
    expect(dedupe[0]?.sql).toMatch(/WHERE direction = 'in'/)
  })

  it('a sealed ack finds its message among the deposited ones, not by scanning the outbox or the history', () => {
    const db = tempDb()
    const details = plan(
      db,
      `UPDATE messages INDEXED BY messages_deposited SET status = 'delivered' WHERE status = 'queued' AND deposited_at IS NOT NULL AND peer = 'bob' AND id = 'x'`,
    )
    expect(details.some((d) => d.includes('messages_deposited'))).toBe(true)
    const store = new MessageStore(db)
    const seq = store.enqueue({ id: 'sealed-one', peer: 'bob', peerKey: 'kb', text: 's', at: 1, storedAt: 1 })
    expect(store.markDepositedDelivered('bob', 'sealed-one')).toBe(false) // not deposited: no sealed ack can name it
    db.prepare('UPDATE messages SET deposited_at = 1 WHERE seq = ?').run(seq)
    expect(store.markDepositedDelivered('bob', 'sealed-one')).toBe(true)
    expect(store.counts()).toEqual({ queued: 0, failed: 0 })
  })
})

/** Outgoing rows to bob and carol in turn. */
function outgoingRows(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    id: `m-${i}`,
    peer: i % 2 ? 'bob' : 'carol',
    peerKey: 'k',
    text: `t${i}`,
    at: i,
    storedAt: i,
  }))
}
