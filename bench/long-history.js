/**
 * A profile with a long history, made in about a second: rows written straight into the profile
 * database through the daemon's own store code (so the schema and indexes are the real ones),
 * before its daemon first starts. Half are messages sent to `peer` and delivered, half received
 * from it, interleaved, as a long conversation leaves them.
 */
import { mkdirSync } from 'node:fs'
import { openDatabase } from '../dist/daemon/stores/database.js'
import { MessageStore } from '../dist/daemon/stores/message-store.js'
import { profilePaths } from '../dist/protocol/profile.js'
import { payload } from './lib.js'

export function fillHistory(home, { peer, messages }) {
  mkdirSync(home, { recursive: true, mode: 0o700 })
  const db = openDatabase(profilePaths(home).database)
  const store = new MessageStore(db)
  const start = Date.now() - messages * 1000
  db.transaction(() => {
    for (let i = 0; i < messages; i++) {
      const at = start + i * 1000
      const message = { id: `history-${i}`, peer, peerKey: 'history-fill', text: payload(i), at }
      if (i % 2 === 0) store.markDelivered(store.enqueue({ ...message, storedAt: at }))
      else store.receive({ ...message, muted: false }, at)
    }
  })()
  db.close()
}
