/**
 * The outbox's reads of one peer's queue on a profile with 300,000 messages delivered to that
 * peer and 5 still queued: each statement as SQLite plans it by itself (it picks the index of the
 * peer's whole history) next to the one in use, which names the outbox index
 * (`node bench/queue-reads.js`). A new link reads from seq 0, a closing one asks whether anything
 * waits, `trust` rekeys the queue, and every mailbox round reads what is due.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../dist/daemon/stores/database.js'
import { DEPOSIT_DUE_SQL } from '../dist/daemon/stores/deposit-store.js'
import { MessageStore, QUEUED_FOR_SQL, REKEY_QUEUED_SQL } from '../dist/daemon/stores/message-store.js'

const DELIVERED = 300_000
const dir = mkdtempSync(join(tmpdir(), 'p2p-queue-reads-'))
const db = openDatabase(join(dir, 'p2p.db'))
const store = new MessageStore(db)
const row = (id) => ({ id, peer: 'bob', peerKey: 'kb', text: 'x'.repeat(100), at: 1, storedAt: 1 })
db.transaction(() => {
  for (let i = 0; i < DELIVERED; i += 64) {
    store.markDeliveredMany(store.enqueueMany(Array.from({ length: 64 }, (_, k) => row(`m${i + k}`))))
  }
})()
store.enqueueMany(Array.from({ length: 5 }, (_, k) => row(`queued-${k}`)))

const unhinted = (sql) => sql.replace(' INDEXED BY messages_outbox', '')
const cases = [
  ['queue from seq 0, first row (link up, link down)', QUEUED_FOR_SQL, (st) => st.all('bob', 0, 1)],
  ['rekey the queue (trust)', REKEY_QUEUED_SQL, (st) => db.transaction(() => st.run('kb', 'bob'))()],
  ['due for the mailbox (each round)', DEPOSIT_DUE_SQL, (st) => st.all('bob', Date.now(), 64)],
]
for (const [what, sql, call] of cases) {
  const times = []
  for (const st of [db.prepare(unhinted(sql)), db.prepare(sql)]) {
    call(st)
    const t = performance.now()
    for (let i = 0; i < 10; i++) call(st)
    times.push((performance.now() - t) / 10)
  }
  console.log(`${what}: ${times[0].toFixed(3)} ms as SQLite plans it, ${times[1].toFixed(3)} ms from the outbox index`)
}
db.close()
rmSync(dir, { recursive: true, force: true })
