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

function insertAll(makeId) {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-bench-writes-'))
  const db = openDatabase(join(dir, 'p2p.db'))
  const insert = db.prepare(
    `INSERT INTO messages (direction, id, peer, peer_key, text, at, stored_at, muted) VALUES ('in', ?, 'alice', ?, ?, ?, ?, 0)`,
  )
  const key = 'a'.repeat(64)
  const text = 'x'.repeat(100)
  const t0 = performance.now()
  for (let i = 0; i < rows; i += BATCH) {
    db.transaction(() => {
      for (let j = 0; j < BATCH; j++) {
        const at = Date.now()
        insert.run(makeId(at), key, text, at, at)
      }
    })()
    if (i % 20_000 === 0) db.pragma('wal_checkpoint(PASSIVE)')
  }
  const us = ((performance.now() - t0) * 1000) / rows
  db.close()
  rmSync(dir, { recursive: true, force: true })
  return us
}

/** Outgoing rows through the store, `BATCH` per transaction: one INSERT each, or enqueueMany. */
function enqueueAll(grouped) {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-bench-writes-'))
  const db = openDatabase(join(dir, 'p2p.db'))
  const store = new MessageStore(db)
  const key = 'b'.repeat(64)
  const text = 'x'.repeat(100)
  const t0 = performance.now()
  for (let i = 0; i < rows; i += BATCH) {
    const batch = Array.from({ length: BATCH }, (_, j) => {
      const at = Date.now()
      return { id: newMessageId(at), peer: 'bob', peerKey: key, text: `${text}${i + j}`, at, storedAt: at }
    })
    db.transaction(() => {
      if (grouped) store.enqueueMany(batch)
      else for (const row of batch) store.enqueue(row)
    })()
    if (i % 20_000 === 0) db.pragma('wal_checkpoint(PASSIVE)')
  }
  const us = ((performance.now() - t0) * 1000) / rows
  db.close()
  rmSync(dir, { recursive: true, force: true })
  return us
}

/** Incoming rows through the store, `BATCH` per transaction: receive each, or receiveMany. */
function receiveAll(grouped) {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-bench-writes-'))
  const db = openDatabase(join(dir, 'p2p.db'))
  const store = new MessageStore(db)
  const key = 'a'.repeat(64)
  const text = 'x'.repeat(100)
  const t0 = performance.now()
  for (let i = 0; i < rows; i += BATCH) {
    const batch = Array.from({ length: BATCH }, (_, j) => {
      const at = Date.now()
      return { id: newMessageId(at), peer: 'alice', peerKey: key, text: `${text}${i + j}`, at, muted: false }
    })
    db.transaction(() => {
      if (grouped) store.receiveMany(batch)
      else for (const message of batch) store.receive(message)
    })()
    if (i % 20_000 === 0) db.pragma('wal_checkpoint(PASSIVE)')
  }
  const us = ((performance.now() - t0) * 1000) / rows
  db.close()
  rmSync(dir, { recursive: true, force: true })
  return us
}

/** Delivered marks, `BATCH` per transaction, each batch marked one batch after its insert: an UPDATE each, or markDeliveredMany. */
function markAll(grouped) {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-bench-writes-'))
  const db = openDatabase(join(dir, 'p2p.db'))
  const store = new MessageStore(db)
  const mark = db.prepare(`UPDATE messages SET status = 'delivered' WHERE seq = ? AND status = 'queued'`)
  const key = 'b'.repeat(64)
  const text = 'x'.repeat(100)
  let marking = 0
  let previous = []
  for (let i = 0; i < rows; i += BATCH) {
    const batch = Array.from({ length: BATCH }, (_, j) => {
      const at = Date.now()
      return { id: newMessageId(at), peer: 'bob', peerKey: key, text: `${text}${i + j}`, at, storedAt: at }
    })
    db.transaction(() => {
      const seqs = store.enqueueMany(batch)
      const t0 = performance.now()
      if (grouped) store.markDeliveredMany(previous)
      else for (const seq of previous) mark.run(seq)
      marking += performance.now() - t0
      previous = seqs
    })()
    if (i % 20_000 === 0) db.pragma('wal_checkpoint(PASSIVE)')
  }
  db.close()
  rmSync(dir, { recursive: true, force: true })
  return (marking * 1000) / rows
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
