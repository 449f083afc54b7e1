/**
 * Groups the writes of one turn of the event loop into one SQLite transaction. Under load this is
 * the difference between ~25k single-row commits a second and hundreds of thousands of rows; when
 * idle a write waits only for the current turn to end. Each write's promise settles after the
 * commit is on disk (`durability`: one fsync covers every batch committed before it started), so
 * "stored" means it survives a power loss, and an acknowledgement sent then can be trusted.
 */
import type { Db } from './database.js'
import type { Durability } from './wal-sync.js'

export type Outcome<T = unknown> = { ok: true; value: T } | { ok: false; error: unknown }

interface PendingWrite {
  write: () => unknown
  /** Needs no fsync of its own: a later one covers it, and losing it to a power cut is harmless. */
  lazy?: boolean
  /** Told when the transaction ends, before the fsync: readers see the row from then on. */
  committed?: (outcome: Outcome) => void
  /** Told once the commit is on disk, or that it failed. */
  durable: (outcome: Outcome) => void
}

const settlePromise =
  (resolve: (value: never) => void, reject: (error: unknown) => void) =>
  (outcome: Outcome): void =>
    outcome.ok ? resolve(outcome.value as never) : reject(outcome.error)

export class WriteBatcher {
  private pending: PendingWrite[] = []
  /** A flush is queued as a microtask: some pending write has someone waiting for it. */
  private soon = false
  /** A flush is queued for the end of the turn: every pending write so far is lazy. */
  private endOfTurn = false

  /** Made once: better-sqlite3 builds four wrapper functions per `transaction()`, and an idle sender commits per message. */
  private readonly commitBatch: (batch: PendingWrite[], results: Outcome[]) => void

  constructor(
    db: Db,
    private readonly durability: Durability,
  ) {
    this.commitBatch = db.transaction((batch: PendingWrite[], results: Outcome[]) => {
      for (const op of batch) {
        // A failing statement is rolled back alone by SQLite; the rest of the batch still commits.
        try {
          results.push({ ok: true, value: op.write() })
        } catch (error) {
          results.push({ ok: false, error })
        }
      }
    })
  }

  /** Resolves with what `write` returned once its commit is on disk. */
  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => this.add({ write, durable: settlePromise(resolve, reject) }))
  }

  /**
   * A write whose loss to a power cut costs nothing but a repeat (a delivered or failed mark: the
   * message goes out again and the peer, which deduplicates, answers again). It commits with the
   * next batch someone waits for, or at the end of the turn (after the answers it let out were
   * written: an idle `send` is answered about 0.15 ms sooner), and readers see it then; a batch
   * of only such writes asks for no fsync: the next synced batch, or the checkpointer's idle
   * sync, covers it. An idle sender so saves one fsync, and two thread hand-offs, per message.
   */
  record(write: () => unknown, committed?: (outcome: Outcome) => void): void {
    this.add({ write, lazy: true, ...(committed ? { committed } : {}), durable: () => {} })
  }

  /**
   * The same write, told twice: as soon as it is committed, before the fsync, for work that may
   * start early and safely (sending a message to its peer), and once it is on disk, when the
   * sender may hear that it is stored. Callbacks, not promises: this is the path of every message
   * sent, where two promises and their closures per message were a measurable share of the GC.
   */
  stage<T>(write: () => T, committed: ((outcome: Outcome<T>) => void) | undefined, durable: (outcome: Outcome<T>) => void): void {
    this.add({ write, committed: committed as ((outcome: Outcome) => void) | undefined, durable: durable as (outcome: Outcome) => void })
  }

  /** Commits whatever is pending now (also called on shutdown). */
  flush(): void {
    this.soon = false
    const batch = this.pending
    if (batch.length === 0) return
    this.pending = []
    const results: Outcome[] = []
    try {
      this.commitBatch(batch, results)
    } catch (error) {
      for (const op of batch) {
        op.committed?.({ ok: false, error })
        op.durable({ ok: false, error })
      }
      return
    }
    for (const [i, op] of batch.entries()) op.committed?.(results[i] as Outcome)
    if (batch.every((op) => op.lazy)) return
    const settle = () => {
      for (const [i, op] of batch.entries()) op.durable(results[i] as Outcome)
    }
    // A failed fsync leaves the commit's durability unknown: nobody may be told it is stored.
    this.durability.sync().then(settle, (error) => {
      for (const op of batch) op.durable({ ok: false, error })
    })
  }

  private add(op: PendingWrite): void {
    this.pending.push(op)
    if (!op.lazy) {
      if (this.soon) return
      this.soon = true
      queueMicrotask(() => this.flush())
    } else if (!this.soon && !this.endOfTurn) {
      // Only lazy writes so far (delivered marks): they commit at the end of the turn, after what
      // they made happen (the answers to `send`, flushed as microtasks) has gone out; any write
      // someone waits for, staged meanwhile, takes them along in its own batch.
      this.endOfTurn = true
      setImmediate(() => {
        this.endOfTurn = false
        this.flush()
      })
    }
  }
}
