/**
 * WAL checkpoints off the event loop. SQLite's own automatic checkpoint runs inside whichever
 * commit crosses the threshold, with an fsync: under load that stalled a commit batch for tens of
 * milliseconds every few megabytes (BENCHMARKS.md, B1 and B2). A worker thread with its own
 * connection checkpoints instead, so the fsync blocks that thread and not the daemon; the daemon's
 * connection keeps a far higher automatic threshold only as a backstop, should the worker stop.
 *
 * The worker runs only while there is something to checkpoint: alive, it holds about 17 MB, more
 * than a sixth of an idle daemon (BENCHMARKS.md, B9). The main thread reads how many WAL frames
 * wait (two numbers in the -shm file) every interval: it starts the worker once enough wait,
 * and stops it once none has waited for a while. A few frames may wait in the WAL for long; that
 * costs nothing but WAL space, and they are as durable there as in the database file.
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { createRequire } from 'node:module'
import { endianness } from 'node:os'
import { Worker } from 'node:worker_threads'

// The worker's whole program. Inline (an eval worker) so that it runs the same from dist/ and
// under the test runner, which cannot hand TypeScript files to a worker thread.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path)
db.pragma('busy_timeout = 5000')
const timer = setInterval(() => {
  // PASSIVE: copies what it can without waiting for, or blocking, the daemon's readers and writers.
  // Busy or locked: the next round tries again.
  try { db.pragma('wal_checkpoint(PASSIVE)') } catch {}
}, workerData.intervalMs)
parentPort.on('message', (message) => {
  if (message !== 'stop') return
  clearInterval(timer)
  db.close()
  parentPort.close()
})
`

export interface Checkpointer {
  stop(): Promise<void>
  /** Whether the worker thread is alive now (tests, status). */
  readonly running: boolean
}

export interface CheckpointerOptions {
  intervalMs?: number
  /** Frames waiting in the WAL that start the worker: 256 frames of 4 KiB pages, 1 MiB. */
  startFrames?: number
  /** Intervals in a row with nothing waiting that stop it. */
  idleRounds?: number
  onError?: (error: Error) => void
  /**
   * Makes the WAL durable (WalSync). Called once a round when frames were written since the last
   * call: commits that nothing waits for (settings, a pinned key, a peer's address) reach the disk
   * within a round, as they did when the worker's checkpoints synced the WAL every round.
   */
  sync?: () => Promise<void>
}

/** Pure: what the main thread does with the worker this round. */
export function checkpointDecision(
  state: { running: boolean; idleRounds: number },
  pendingFrames: number | undefined,
  limits: { startFrames: number; idleRounds: number },
): 'start' | 'stop' | 'keep' {
  // The -shm file could not be read: keep a worker, as before there was this policy.
  if (pendingFrames === undefined) return state.running ? 'keep' : 'start'
  if (!state.running) return pendingFrames >= limits.startFrames ? 'start' : 'keep'
  return pendingFrames === 0 && state.idleRounds + 1 >= limits.idleRounds ? 'stop' : 'keep'
}

/** The two counters of the wal-index header that say how much of the WAL is waiting. */
export interface WalIndex {
  /** Frames in the WAL. */
  mxFrame: number
  /** Of those, frames already copied into the database file. */
  nBackfill: number
}

/**
 * mxFrame of the wal-index header and nBackfill of its checkpoint info, both 32-bit in the
 * machine's byte order (https://www.sqlite.org/walformat.html, "the wal-index header"). Read
 * without SQLite's lock, so a torn read is possible: it only decides when a worker runs and when
 * an idle sync happens, never what is written.
 */
export function readWalIndex(shmFd: number, buffer = Buffer.alloc(100)): WalIndex | undefined {
  try {
    if (readSync(shmFd, buffer, 0, 100, 0) < 100) return undefined
  } catch {
    return undefined
  }
  const little = endianness() === 'LE'
  return {
    mxFrame: little ? buffer.readUInt32LE(16) : buffer.readUInt32BE(16),
    nBackfill: little ? buffer.readUInt32LE(96) : buffer.readUInt32BE(96),
  }
}

/** Pure: frames in the WAL not yet copied into the database file. */
export function pendingFrames(index: WalIndex | undefined): number | undefined {
  return index && Math.max(0, index.mxFrame - index.nBackfill)
}

export function startCheckpointer(path: string, options: CheckpointerOptions = {}): Checkpointer {
  const { intervalMs = 500, startFrames = 256, idleRounds = 20, onError = () => {}, sync } = options
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  let shmFd: number | undefined
  try {
    shmFd = openSync(`${path}-shm`, 'r')
  } catch {
    shmFd = undefined
  }
  let worker: Worker | undefined
  let exited: Promise<void> = Promise.resolve()
  let idle = 0
  // A worker that failed is not started again (its error is logged once); the daemon's own
  // automatic checkpoint remains as the backstop.
  let failed = false
  const startWorker = () => {
    const started = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs, driver } })
    started.on('error', (error) => {
      failed = true
      onError(error)
    })
    exited = new Promise((resolve) =>
      started.once('exit', () => {
        if (worker === started) worker = undefined
        resolve()
      }),
    )
    // It must never keep the daemon alive by itself.
    started.unref()
    worker = started
  }
  const stopWorker = (): Promise<void> => {
    const stopping = worker
    if (!stopping) return exited
    // Held while it closes its connection: an unref'd worker would let the process end first.
    stopping.ref()
    stopping.postMessage('stop')
    worker = undefined
    return exited
  }
  const buffer = Buffer.alloc(100)
  let syncedUpTo: number | undefined
  const round = () => {
    const index = shmFd === undefined ? undefined : readWalIndex(shmFd, buffer)
    const pending = pendingFrames(index)
    if (sync && index && index.mxFrame !== syncedUpTo) {
      syncedUpTo = index.mxFrame
      sync().catch(onError)
    }
    const decision = checkpointDecision({ running: worker !== undefined, idleRounds: idle }, pending, { startFrames, idleRounds })
    idle = worker !== undefined && pending === 0 ? idle + 1 : 0
    if (decision === 'start' && !failed) startWorker()
    else if (decision === 'stop') void stopWorker()
  }
  const timer = setInterval(round, intervalMs)
  timer.unref()
  round()
  return {
    get running() {
      return worker !== undefined
    },
    stop: async () => {
      clearInterval(timer)
      await stopWorker()
      if (shmFd !== undefined) closeSync(shmFd)
      shmFd = undefined
    },
  }
}
