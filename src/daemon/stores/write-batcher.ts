/**
 * Groups the writes of one turn of the event loop into one SQLite transaction. Under load this is
 * the difference between ~25k single-row commits a second and hundreds of thousands of rows; when
 * idle a write waits only for the current turn to end. Each write's promise settles after the
 * commit, so "stored" always means committed.
 */
import type { Db } from './database.js'

interface PendingWrite {
  write: () => unknown
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

export class WriteBatcher {
  private pending: PendingWrite[] = []
  private scheduled = false

  constructor(private readonly db: Db) {}

  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ write, resolve: resolve as (value: unknown) => void, reject })
      if (!this.scheduled) {
        this.scheduled = true
        queueMicrotask(() => this.flush())
      }
    })
  }

  /** Commits whatever is pending now (also called on shutdown). */
  flush(): void {
    this.scheduled = false
    const batch = this.pending
    if (batch.length === 0) return
    this.pending = []
    const results: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = []
    try {
      this.db.transaction(() => {
        for (const op of batch) {
          // A failing statement is rolled back alone by SQLite; the rest of the batch still commits.
          try {
            results.push({ ok: true, value: op.write() })
          } catch (error) {
            results.push({ ok: false, error })
          }
        }
      })()
    } catch (error) {
      for (const op of batch) op.reject(error)
      return
    }
    batch.forEach((op, i) => {
      const result = results[i]
      if (result?.ok) op.resolve(result.value)
      else op.reject(result?.error)
    })
  }
}
