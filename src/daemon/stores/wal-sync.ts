/**
 * Makes committed transactions survive a power loss, one fsync per group of commits.
 *
 * The database runs WAL with synchronous=NORMAL: a commit is written to the WAL but not synced,
 * which survives a killed process, not a power cut. Before we acknowledge a message to its
 * sender (or answer `send`), its commit must be on disk. SQLite's synchronous=FULL would fsync
 * inside every commit, on the event loop; instead the WAL file is fdatasync'd here, in libuv's
 * thread pool, and every commit that finished before a sync started is covered by it. Commits
 * made while a sync runs wait for the next one, so under load there is one fsync per batch of
 * batches and the event loop never waits for the disk.
 */
import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { promisify } from 'node:util'

const datasync = promisify(fdatasync)

export interface Durability {
  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void>
  close(): void
}

interface Waiters {
  promise: Promise<void>
  resolve: () => void
  reject: (error: unknown) => void
}

function waiters(): Waiters {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

export class WalSync implements Durability {
  private readonly fd: number
  private running: Promise<void> | undefined
  /** Callers that came while a sync ran: the next sync covers them. */
  private next: Waiters | undefined
  private closing = false

  /** `databasePath`'s WAL must exist (the database is open in WAL mode and was written to). */
  constructor(databasePath: string) {
    this.fd = openSync(`${databasePath}-wal`, 'r')
    // The WAL's directory entry must be durable too, once: a file that vanishes with its
    // directory's unsynced entry takes its synced contents along.
    const dir = openSync(dirname(databasePath), 'r')
    try {
      fsyncSync(dir)
    } finally {
      closeSync(dir)
    }
  }

  sync(): Promise<void> {
    if (!this.running) return this.start()
    this.next ??= waiters()
    return this.next.promise
  }

  /** Closes the WAL's fd once no sync is in flight: one still in the thread pool would find it closed (EBADF), or another file under its number. */
  close(): void {
    this.closing = true
    if (!this.running) closeSync(this.fd)
  }

  private start(): Promise<void> {
    const run = datasync(this.fd)
    this.running = run
    const settle = () => {
      this.running = undefined
      const queued = this.next
      this.next = undefined
      if (queued) this.start().then(queued.resolve, queued.reject)
      else if (this.closing) closeSync(this.fd)
    }
    run.then(settle, settle)
    return run
  }
}

/** For stores that need no power-loss durability (tests of other concerns, in-memory databases). */
export const NO_SYNC: Durability = { sync: () => Promise.resolve(), close: () => {} }
