import { mkdtempSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { startCheckpointer } from '../../src/daemon/stores/checkpointer.js'
import { openDatabase } from '../../src/daemon/stores/database.js'
import { MessageStore } from '../../src/daemon/stores/message-store.js'

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
