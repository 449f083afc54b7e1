/**
 * The two SQLite writes of the hot path, alone, in a real profile database (its tables, indexes
 * and pragmas), 256 rows per transaction with a passive checkpoint every 20,000:
 * - the receiver's insert of incoming messages, with nanoid (random) ids against time-ordered ones
 *   (src/protocol/message-id.ts): why ids start with the sender's clock;
 * - the sender's insert of outgoing messages, one INSERT per row against multi-row INSERTs of 64
 *   (MessageStore.enqueueMany): why the outbox inserts a turn's rows together;
 * - the same for the receiver's insert through the store (MessageStore.receiveMany), and for the
 *   sender's delivered marks (MessageStore.markDeliveredMany), rows marked a batch after their insert.
 * `node bench/store-writes.js [ROWS]`
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nanoid } from 'nanoid'
import { openDatabase } from '../dist/daemon/stores/database.js'
import { MessageStore } from '../dist/daemon/stores/message-store.js'
import { newMessageId } from '../dist/protocol/message-id.js'

const rows = Number(process.argv[2] ?? 200_000)
const BATCH = 256

/**
 * Microseconds per row of `write(batch, store, db)` over `rows` rows in transactions of BATCH, in a
 * fresh profile database with a passive checkpoint every 20,000 rows. `timed` returns the time
 * to count when only part of each transaction is measured.
 */
function perRow(makeRow, write) {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-bench-writes-'))
  const db = openDatabase(join(dir, 'p2p.db'))
  const store = new MessageStore(db)
  let measured = 0
  for (let i = 0; i < rows; i += BATCH) {
    const batch = Array.from({ length: BATCH }, (_, j) => makeRow(i + j, Date.now()))
    const t0 = performance.now()
    const timed = db.transaction(() => write(batch, store, db))()
    measured += typeof timed === 'number' ? timed : performance.now() - t0
    if (i % 20_000 === 0) db.pragma('wal_checkpoint(PASSIVE)')
  }
  db.close()
  rmSync(dir, { recursive: true, force: true })
  return (measured * 1000) / rows
}

const text = 'x'.repeat(100)
const incoming = (i, at) => ({ id: newMessageId(at), peer: 'alice', peerKey: 'a'.repeat(64), text: `${text}${i}`, at, muted: false })
const outgoing = (i, at) => ({ id: newMessageId(at), peer: 'bob', peerKey: 'b'.repeat(64), text: `${text}${i}`, at, storedAt: at })

/** The receiver's plain INSERT, one per row, with ids made by `makeId`. */
function insertAll(makeId) {
  let insert
  return perRow(incoming, (batch, _store, db) => {
    insert ??= db.prepare(
      `INSERT INTO messages (direction, id, peer, peer_key, text, at, stored_at, muted) VALUES ('in', ?, 'alice', ?, ?, ?, ?, 0)`,
    )
    for (const m of batch) insert.run(makeId(m.at), m.peerKey, m.text, m.at, m.at)
  })
}

/** Outgoing rows through the store: one INSERT each, or enqueueMany. */
const enqueueAll = (grouped) =>
  perRow(outgoing, (batch, store) => {
    if (grouped) store.enqueueMany(batch)
    else for (const row of batch) store.enqueue(row)
  })

/** Incoming rows through the store: receive each, or receiveMany. */
const receiveAll = (grouped) =>
  perRow(incoming, (batch, store) => {
    if (grouped) store.receiveMany(batch)
    else for (const message of batch) store.receive(message)
  })

/** Delivered marks, each batch marked one batch after its insert (only the marks timed): an UPDATE each, or markDeliveredMany. */
function markAll(grouped) {
  let previous = []
  let mark
  return perRow(outgoing, (batch, store, db) => {
    mark ??= db.prepare(`UPDATE messages SET status = 'delivered' WHERE seq = ? AND status = 'queued'`)
    const seqs = store.enqueueMany(batch)
    const t0 = performance.now()
    if (grouped) store.markDeliveredMany(previous)
    else for (const seq of previous) mark.run(seq)
    previous = seqs
    return performance.now() - t0
  })
}

for (let round = 0; round < 2; round++) {
  const random = insertAll(() => nanoid())
  const ordered = insertAll((at) => newMessageId(at))
  console.log(
    `receiver, ${rows} rows: nanoid ids ${random.toFixed(1)} us/row, time-ordered ${ordered.toFixed(1)} (${(random / ordered).toFixed(1)}x)`,
  )
  const single = enqueueAll(false)
  const grouped = enqueueAll(true)
  console.log(
    `sender, ${rows} rows: an INSERT each ${single.toFixed(1)} us/row, 64 per INSERT ${grouped.toFixed(1)} (${(single / grouped).toFixed(1)}x)`,
  )
  const each = receiveAll(false)
  const many = receiveAll(true)
  console.log(
    `receiver through the store, ${rows} rows: an INSERT each ${each.toFixed(1)} us/row, 64 per INSERT ${many.toFixed(1)} (${(each / many).toFixed(1)}x)`,
  )
  const markEach = markAll(false)
  const markMany = markAll(true)
  console.log(
    `sender's delivered marks, ${rows} rows: an UPDATE each ${markEach.toFixed(2)} us/row, 64 per UPDATE ${markMany.toFixed(2)} (${(markEach / markMany).toFixed(1)}x)`,
  )
}
