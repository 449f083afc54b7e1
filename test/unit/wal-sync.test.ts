import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/daemon/stores/database.js'
import { WalSync } from '../../src/daemon/stores/wal-sync.js'

describe('WalSync', () => {
  it('close() right after a sync leaves the fd to that sync: it finishes instead of failing with EBADF', async () => {
    for (let i = 0; i < 20; i++) {
      const path = join(mkdtempSync(join(tmpdir(), 'p2p-walsync-')), 'p2p.db')
      const db = openDatabase(path)
      const durability = new WalSync(path)
      // One in flight and one queued behind it, as a daemon that fails to start leaves them.
      const syncs = [durability.sync(), durability.sync()]
      durability.close()
      await expect(Promise.all(syncs)).resolves.toEqual([undefined, undefined])
      db.close()
    }
  })
})
