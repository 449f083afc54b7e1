/**
 * How long the outbox count that every `status` makes takes on a profile with 100,000 delivered
 * messages: the statement before issue 10's fix next to the one in use (`node bench/status-counts.js`).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../dist/daemon/stores/database.js'
import { MessageStore, OUTBOX_COUNTS_SQL } from '../dist/daemon/stores/message-store.js'

const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'p2p-cnt-')), 'p2p.db'))
const store = new MessageStore(db)
db.transaction(() => {
  for (let i = 0; i < 100_000; i++) {
    store.markDelivered(store.enqueue({ id: `m${i}`, peer: 'bob', peerKey: 'kb', text: 'x'.repeat(100), at: i, storedAt: i }))
  }
})()
const old = db.prepare(
  `SELECT COALESCE(SUM(status = 'queued'), 0) AS queued, COALESCE(SUM(status = 'failed'), 0) AS failed FROM messages WHERE direction = 'out'`,
)
const neu = db.prepare(OUTBOX_COUNTS_SQL)
for (const [name, st] of [
  ['old', old],
  ['new', neu],
]) {
  st.get()
  const t = performance.now()
  for (let i = 0; i < 20; i++) st.get()
  console.log(name, ((performance.now() - t) / 20).toFixed(3), 'ms per status count on 100,000 delivered messages')
}
