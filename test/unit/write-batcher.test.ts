import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/daemon/stores/database.js'
import { NO_SYNC, WalSync } from '../../src/daemon/stores/wal-sync.js'
import { type Outcome, WriteBatcher } from '../../src/daemon/stores/write-batcher.js'
import { tempDb } from '../helpers/temp-db.js'

describe('WriteBatcher', () => {
  it('commits a turn of writes together; one failing write does not sink the others', async () => {
    const db = tempDb()
    db.exec('CREATE TABLE t (v INTEGER UNIQUE)')
    const batcher = new WriteBatcher(db, NO_SYNC)
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
    const results = await Promise.allSettled([1, 2, 2, 3].map((v) => batcher.run(() => insert.run(v).changes)))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 3 })
  })
})

describe('WriteBatcher durability', () => {
  /** A sync the test finishes by hand. */
  function manualSync() {
    const calls: Array<{ resolve: () => void; reject: (e: unknown) => void }> = []
    return {
      calls,
      durability: {
        sync: () => new Promise<void>((resolve, reject) => calls.push({ resolve, reject })),
        close: () => {},
      },
    }
  }

  it('settles a write only once the sync after its commit is done', async () => {
    const db = tempDb()
    db.exec('CREATE TABLE t (v INTEGER)')
    const sync = manualSync()
    const batcher = new WriteBatcher(db, sync.durability)
    let settled = false
    const write = batcher
      .run(() => db.prepare('INSERT INTO t (v) VALUES (1)').run().changes)
      .then((n) => {
        settled = true
        return n
      })
    await new Promise((r) => setImmediate(r))
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 1 }) // committed
    expect(settled).toBe(false) // but not yet said to be stored
    expect(sync.calls).toHaveLength(1)
    sync.calls[0]!.resolve()
    expect(await write).toBe(1)
  })

  it('refuses every write of a batch whose sync failed: nobody is told it is stored', async () => {
    const db = tempDb()
    db.exec('CREATE TABLE t (v INTEGER)')
    const sync = manualSync()
    const batcher = new WriteBatcher(db, sync.durability)
    const writes = [1, 2].map((v) => batcher.run(() => db.prepare('INSERT INTO t (v) VALUES (?)').run(v)))
    await new Promise((r) => setImmediate(r))
    sync.calls[0]!.reject(new Error('EIO'))
    for (const w of writes) await expect(w).rejects.toThrow('EIO')
  })
})

describe('WriteBatcher.record', () => {
  it('commits a mark with the turn; a batch of only marks asks for no fsync, a mixed one does', async () => {
    const db = tempDb()
    db.exec('CREATE TABLE t (v INTEGER UNIQUE)')
    let syncs = 0
    const sync = () => {
      syncs++
      return Promise.resolve()
    }
    const batcher = new WriteBatcher(db, { sync, close: () => {} })
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
    batcher.record(() => insert.run(1))
    batcher.record(() => insert.run(1)) // fails alone, and nobody is told
    await new Promise((r) => setImmediate(r))
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 1 })
    expect(syncs).toBe(0)
    batcher.record(() => insert.run(2))
    await batcher.run(() => insert.run(3))
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 3 })
    expect(syncs).toBe(1)
  })
})

describe('WriteBatcher timing of marks', () => {
  it("commits a turn of only marks after the turn's microtasks (the answers they let out), and a waited-for write takes them along", async () => {
    const db = tempDb()
    db.exec('CREATE TABLE t (v INTEGER)')
    const batcher = new WriteBatcher(db, { sync: () => Promise.resolve(), close: () => {} })
    const count = () => (db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
    batcher.record(() => insert.run(1))
    // What the mark made happen runs first: microtasks of this turn see it uncommitted.
    const seenByMicrotasks = await Promise.resolve().then(() => Promise.resolve().then(count))
    expect(seenByMicrotasks).toBe(0)
    await new Promise((r) => setImmediate(r))
    expect(count()).toBe(1)
    // A mark, then a write someone waits for: both in the waited-for write's batch, at once.
    batcher.record(() => insert.run(2))
    let committedWith = -1
    batcher.stage(
      () => insert.run(3),
      () => (committedWith = count()),
      () => {},
    )
    await Promise.resolve()
    expect(committedWith).toBe(3)
  })
})

describe('WalSync', () => {
  it('syncs the WAL; callers that come while a sync runs share the next one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p2p-walsync-'))
    const db = openDatabase(join(dir, 'p2p.db'))
    const wal = new WalSync(join(dir, 'p2p.db'))
    try {
      const first = wal.sync()
      const second = wal.sync()
      expect(wal.sync()).toBe(second)
      expect(second).not.toBe(first)
      await Promise.all([first, second])
      // Idle again: a new call starts a sync of its own at once.
      const third = wal.sync()
      expect(third).not.toBe(second)
      await third
    } finally {
      wal.close()
      db.close()
    }
  })
})

describe('WriteBatcher.stage', () => {
  it('tells the commit at once and the durability after the sync; a failing write hears of it twice', async () => {
    const db = tempDb()
    db.exec('CREATE TABLE t (v INTEGER UNIQUE)')
    let finishSync!: () => void
    const batcher = new WriteBatcher(db, { sync: () => new Promise<void>((r) => (finishSync = r)), close: () => {} })
    const heard: string[] = []
    const tell = (what: string) => (outcome: Outcome<unknown>) =>
      heard.push(`${what} ${outcome.ok ? `ok ${outcome.value}` : `failed ${(outcome.error as Error).message.slice(0, 24)}`}`)
    batcher.stage(() => db.prepare('INSERT INTO t (v) VALUES (1)').run().changes, tell('committed'), tell('durable'))
    await new Promise((r) => setImmediate(r))
    expect(heard).toEqual(['committed ok 1'])
    finishSync()
    await new Promise((r) => setImmediate(r))
    expect(heard).toEqual(['committed ok 1', 'durable ok 1'])
    heard.length = 0
    batcher.stage(() => db.prepare('INSERT INTO t (v) VALUES (1)').run(), tell('committed'), tell('durable'))
    await new Promise((r) => setImmediate(r))
    expect(heard).toEqual(['committed failed UNIQUE constraint failed'])
    finishSync()
    await new Promise((r) => setImmediate(r))
    expect(heard).toEqual(['committed failed UNIQUE constraint failed', 'durable failed UNIQUE constraint failed'])
  })
})
