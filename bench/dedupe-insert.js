/**
 * The receiver's insert of an incoming message, alone: the messages table with its indexes as in
 * a profile, rows inserted 256 per transaction with a passive checkpoint every 20,000, ids either
 * nanoid (random) or time-ordered (src/protocol/message-id.ts). Shows why ids start with the
 * sender's clock: `node bench/dedupe-insert.js [ROWS]`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nanoid } from 'nanoid'
import { openDatabase } from '../dist/daemon/stores/database.js'
import { newMessageId } from '../dist/protocol/message-id.js'

const rows = Number(process.argv[2] ?? 200_000)
const BATCH = 256

function insertAll(makeId) {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-bench-dedupe-'))
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

for (let round = 0; round < 2; round++) {
  const random = insertAll(() => nanoid())
  const ordered = insertAll((at) => newMessageId(at))
  console.log(
    `${rows} rows: nanoid ids ${random.toFixed(1)} us/row, time-ordered ids ${ordered.toFixed(1)} us/row (${(random / ordered).toFixed(1)}x)`,
  )
}
