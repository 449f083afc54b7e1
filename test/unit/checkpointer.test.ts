import { mkdtempSync, openSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { checkpointDecision, pendingFrames, readWalIndex, startCheckpointer } from '../../src/daemon/stores/checkpointer.js'
import { openDatabase } from '../../src/daemon/stores/database.js'
import { MessageStore } from '../../src/daemon/stores/message-store.js'

function fill(store: MessageStore, db: ReturnType<typeof openDatabase>, from: number, n: number): void {
  db.transaction(() => {
    for (let i = from; i < from + n; i++)
      store.receive({ id: `incoming-${i}`, peer: 'alice', peerKey: 'ka', text: 'x'.repeat(200), at: i, muted: false })
  })()
}

describe('Checkpointer', () => {
  it('moves the WAL into the database file from a worker thread, started once frames wait and stopped once none do', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'p2p-ckpt-')), 'p2p.db')
    const db = openDatabase(path)
    const store = new MessageStore(db)
    const before = statSync(path).size
    const checkpointer = startCheckpointer(path, { intervalMs: 20, startFrames: 64, idleRounds: 5 })
    try {
      // A fresh database has a few frames waiting, fewer than it takes to start the worker.
      expect(checkpointer.running).toBe(false)
      fill(store, db, 0, 5000)
      await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(before + 1_000_000), { timeout: 20_000, interval: 20 })
      // Nothing more to do: the worker goes away; more commits bring it back.
      await vi.waitFor(() => expect(checkpointer.running).toBe(false), { timeout: 20_000, interval: 20 })
      const shm = openSync(`${path}-shm`, 'r')
      expect(pendingFrames(readWalIndex(shm))).toBe(0)
      fill(store, db, 5000, 5000)
      expect(pendingFrames(readWalIndex(shm))).toBeGreaterThan(64)
      await vi.waitFor(() => expect(checkpointer.running).toBe(true), { timeout: 20_000, interval: 20 })
      await vi.waitFor(() => expect(pendingFrames(readWalIndex(shm))).toBe(0), { timeout: 20_000, interval: 20 })
    } finally {
      await checkpointer.stop()
      db.close()
    }
    expect(checkpointer.running).toBe(false)
  })

  it('syncs the WAL once a round after frames were written, and not while nothing is written', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'p2p-ckpt-')), 'p2p.db')
    const db = openDatabase(path)
    const store = new MessageStore(db)
    let syncs = 0
    const checkpointer = startCheckpointer(path, { intervalMs: 20, sync: async () => void syncs++ })
    try {
      // The writes of opening the database: one sync at the first round.
      await vi.waitFor(() => expect(syncs).toBe(1), { timeout: 10_000, interval: 20 })
      fill(store, db, 0, 10)
      await vi.waitFor(() => expect(syncs).toBe(2), { timeout: 10_000, interval: 20 })
      // Many rounds without a write: no more syncs (the worker never started for so little).
      const rounds = Date.now() + 300
      await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(rounds), { timeout: 10_000, interval: 20 })
      expect(syncs).toBe(2)
      expect(checkpointer.running).toBe(false)
    } finally {
      await checkpointer.stop()
      db.close()
    }
  })

  it('decides: start at the threshold, stop after idle rounds, keep a worker when the -shm file cannot be read', () => {
    const limits = { startFrames: 256, idleRounds: 3 }
    expect(checkpointDecision({ running: false, idleRounds: 0 }, 255, limits)).toBe('keep')
    expect(checkpointDecision({ running: false, idleRounds: 0 }, 256, limits)).toBe('start')
    expect(checkpointDecision({ running: true, idleRounds: 0 }, 0, limits)).toBe('keep')
    expect(checkpointDecision({ running: true, idleRounds: 1 }, 10, limits)).toBe('keep')
    expect(checkpointDecision({ running: true, idleRounds: 2 }, 0, limits)).toBe('stop')
    expect(checkpointDecision({ running: false, idleRounds: 0 }, undefined, limits)).toBe('start')
    expect(checkpointDecision({ running: true, idleRounds: 9 }, undefined, limits)).toBe('keep')
  })
})
