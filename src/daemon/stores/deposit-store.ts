/**
 * Which queued messages were left in their peer's mailbox: a column of the outbox (messages table)
 * that only the mailbox sender writes. A deposited message stays queued, so the direct path still
 * sends it and only the peer's acknowledgement settles it; the column only keeps the same message
 * from being sealed and deposited twice.
 */
import type { Db } from './database.js'
import type { OutgoingRow } from './message-store.js'

/** A peer's queued messages not yet deposited: from the outbox index, not the peer's history (see QUEUED_FOR_SQL). */
export const DEPOSIT_DUE_SQL = `SELECT seq, id, peer, peer_key AS peerKey, text, at, stored_at AS storedAt
  FROM messages INDEXED BY messages_outbox
  WHERE peer = ? AND status = 'queued' AND deposited_at IS NULL AND stored_at <= ? ORDER BY seq LIMIT ?`

export class DepositStore {
  private readonly dueStmt
  private readonly markStmt
  private readonly countStmt
  private readonly isDepositedStmt

  constructor(db: Db) {
    this.dueStmt = db.prepare<[string, number, number], OutgoingRow>(DEPOSIT_DUE_SQL)
    this.markStmt = db.prepare<[number, number]>(`UPDATE messages SET deposited_at = ? WHERE seq = ? AND status = 'queued'`)
    this.countStmt = db.prepare<[], { n: number }>(
      `SELECT count(*) AS n FROM messages WHERE status = 'queued' AND deposited_at IS NOT NULL`,
    )
    this.isDepositedStmt = db.prepare<[number], { deposited: number }>(
      `SELECT deposited_at IS NOT NULL AS deposited FROM messages WHERE seq = ? AND direction = 'out'`,
    )
  }

  /**
   * Queued messages to `peer` not yet deposited, stored at or before `storedBefore`, oldest first.
   * Only a prefix of the queue is ever due (stored_at grows with seq), so depositing them in this
   * order keeps the peer's mailbox in the order the messages were sent.
   */
  due(peer: string, storedBefore: number, limit: number): OutgoingRow[] {
    return this.dueStmt.all(peer, storedBefore, limit)
  }

  markDeposited(seq: number, at = Date.now()): void {
    this.markStmt.run(at, seq)
  }

  /** Whether the outgoing message `seq` was left in its peer's mailbox. */
  isDeposited(seq: number): boolean {
    return this.isDepositedStmt.get(seq)?.deposited === 1
  }

  /** Messages waiting in peers' mailboxes for their acknowledgement. */
  depositedCount(): number {
    return this.countStmt.get()?.n ?? 0
  }
}
