/**
 * WAL checkpoints off the event loop. SQLite's own automatic checkpoint runs inside whichever
 * commit crosses the threshold, with an fsync: under load that stalled a commit batch for tens of
 * milliseconds every few megabytes (BENCHMARKS.md, B1 and B2). A worker thread with its own
 * connection checkpoints instead, so the fsync blocks that thread and not the daemon; the daemon's
 * connection keeps a far higher automatic threshold only as a backstop, should the worker stop.
 */
import { createRequire } from 'node:module'
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
}

export function startCheckpointer(path: string, intervalMs = 500, onError: (error: Error) => void = () => {}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs, driver } })
  let exited = false
  worker.on('error', onError)
  worker.once('exit', () => {
    exited = true
  })
  // It must never keep the daemon alive by itself.
  worker.unref()
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve()
        worker.once('exit', () => resolve())
        // Held while it closes its connection: an unref'd worker would let the process end first.
        worker.ref()
        worker.postMessage('stop')
      }),
  }
}
