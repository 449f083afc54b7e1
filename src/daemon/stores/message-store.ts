/**
 * Messages in both directions. Outgoing rows are the outbox while `status = 'queued'`, found by
 * their seq; incoming rows are deduplicated by (sender, id) with a unique index, so a retried
 * message is stored once however often it arrives. The row's seq is the cursor that `watch` and
 * `subscribe` use.
 */
import type { Statement } from 'better-sqlite3'
import type { Db } from './database.js'

export interface OutgoingRow {
  seq: number
  id: string
  peer: string
  peerKey: string
  text: string
  at: number
  storedAt: number
}

export interface StoredMessage {
  seq: number
  direction: 'in' | 'out'
  id: string
  peer: string
  text: string
  at: number
  status: 'queued' | 'delivered' | 'failed' | null
  muted: number
  /** Outgoing: when it was left in the peer's mailbox (it stays queued until acknowledged). */
  depositedAt: number | null
}

export interface IncomingMessage {
  id: string
  peer: string
  peerKey: string
  text: string
  at: number
  muted: boolean
}

/** Rows per multi-row statement at most: 64 x 7 parameters, well under SQLite's limit of 32,766. */
const MAX_ROWS_PER_STATEMENT = 64

/**
 * Pure: `count` rows cut into pieces of powers of two up to MAX_ROWS_PER_STATEMENT, largest first
 * (37 -> 32, 4, 1), so that seven prepared statements of each kind serve every batch size; a
 * statement for each size up to 64 would hold memory in an idle daemon for sizes seen once.
 */
export function statementSizes(count: number): number[] {
  const sizes: number[] = []
  let left = count
  while (left >= MAX_ROWS_PER_STATEMENT) {
    sizes.push(MAX_ROWS_PER_STATEMENT)
    left -= MAX_ROWS_PER_STATEMENT
  }
  for (let size = MAX_ROWS_PER_STATEMENT / 2; size >= 1; size /= 2) {
    if (left >= size) {
      sizes.push(size)
      left -= size
    }
  }
  return sizes
}

const MESSAGE_COLUMNS = 'seq, direction, id, peer, text, at, status, muted, deposited_at AS depositedAt'

/**
 * What `status` asks on every call. Each count reads its own partial index, so the cost follows
 * the outbox, not the history: a profile with 100,000 messages delivered answers like a fresh one.
 */
export const OUTBOX_COUNTS_SQL = `SELECT (SELECT count(*) FROM messages WHERE status = 'queued') AS queued,
  (SELECT count(*) FROM messages WHERE status = 'failed') AS failed`

/**
 * The outbox's reads of one peer's queue (each new link starts from seq 0, and so does "is
 * anything waiting?" when a link closes). Left to itself SQLite picks messages_peer, which holds
 * the peer's whole history, and steps through every delivered row to the first queued one: 56 ms
 * per link up or down with 300,000 messages to that peer, on the event loop. The partial
 * outbox index holds only the queue.
 */
export const QUEUED_FOR_SQL = `SELECT seq, id, peer, peer_key AS peerKey, text, at, stored_at AS storedAt
  FROM messages INDEXED BY messages_outbox
  WHERE peer = ? AND status = 'queued' AND seq > ? ORDER BY seq LIMIT ?`

/** After `trust`, the peer's queue goes to its new key: the same index, for the same reason. */
export const REKEY_QUEUED_SQL = `UPDATE messages INDEXED BY messages_outbox SET peer_key = ?, deposited_at = NULL
  WHERE direction = 'out' AND peer = ? AND status = 'queued'`

const repeat = (item: string, times: number) => Array.from({ length: times }, () => item).join(', ')

/** Prepared statements of one kind by row count, made on first use. */
class StatementsBySize {
  private readonly bySize = new Map<number, Statement<[ReadonlyArray<string | number>]>>()

  constructor(
    private readonly db: Db,
    private readonly sqlFor: (rows: number) => string,
  ) {}

  get(rows: number): Statement<[ReadonlyArray<string | number>]> {
    let statement = this.bySize.get(rows)
    if (!statement) {
      statement = this.db.prepare<[ReadonlyArray<string | number>]>(this.sqlFor(rows))
      this.bySize.set(rows, statement)
    }
    return statement
  }
}

export class MessageStore {
  /** Multi-row statements (see statementSizes). */
  private readonly insertOut
  private readonly insertIn
  private readonly deliver
  private readonly insertedInStmt
  private readonly queuedStmt
  private readonly deliverDepositedStmt
  private readonly failStmt
  private readonly expireStmt
  private readonly countsStmt
  private readonly queuedPeersStmt
  private readonly historyAll
  private readonly historyPeer
  private readonly sinceStmt
  private readonly latestStmt
  private readonly rekeyStmt

  constructor(db: Db) {
    this.insertOut = new StatementsBySize(
      db,
      (rows) =>
        `INSERT INTO messages (direction, id, peer, peer_key, text, at, stored_at, status) VALUES ${repeat("('out', ?, ?, ?, ?, ?, ?, 'queued')", rows)}`,
    )
    this.insertIn = new StatementsBySize(
      db,
      (rows) =>
        `INSERT INTO messages (direction, id, peer, peer_key, text, at, stored_at, muted) VALUES ${repeat("('in', ?, ?, ?, ?, ?, ?, ?)", rows)} ON CONFLICT DO NOTHING`,
    )
    this.deliver = new StatementsBySize(
      db,
      (rows) => `UPDATE messages SET status = 'delivered' WHERE status = 'queued' AND seq IN (${repeat('?', rows)})`,
    )
    this.insertedInStmt = db.prepare<[number, number], { seq: number; peer: string; id: string }>(
      'SELECT seq, peer, id FROM messages WHERE seq BETWEEN ? AND ?',
    )
    this.queuedStmt = db.prepare<[string, number, number], OutgoingRow>(QUEUED_FOR_SQL)
    // A sealed ack names the message by id; only a deposited message can have one, and those are few.
    this.deliverDepositedStmt = db.prepare<[string, string]>(
      `UPDATE messages INDEXED BY messages_deposited SET status = 'delivered'
       WHERE status = 'queued' AND deposited_at IS NOT NULL AND peer = ? AND id = ?`,
    )
    this.failStmt = db.prepare<[string, number]>(`UPDATE messages SET status = 'failed', error = ? WHERE seq = ? AND status = 'queued'`)
    this.expireStmt = db.prepare<[number], { id: string; peer: string }>(
      `UPDATE messages SET status = 'failed', error = 'expired' WHERE status = 'queued' AND stored_at < ? RETURNING id, peer`,
    )
    this.countsStmt = db.prepare<[], { queued: number; failed: number }>(OUTBOX_COUNTS_SQL)
    this.queuedPeersStmt = db.prepare<[], { peer: string }>(`SELECT DISTINCT peer FROM messages WHERE status = 'queued'`)
    this.historyAll = db.prepare<[number, number], StoredMessage>(
      `SELECT * FROM (SELECT ${MESSAGE_COLUMNS} FROM messages WHERE (muted = 0 OR ?) ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
    )
    this.historyPeer = db.prepare<[string, number, number], StoredMessage>(
      `SELECT * FROM (SELECT ${MESSAGE_COLUMNS} FROM messages WHERE peer = ? AND (muted = 0 OR ?) ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
    )
    this.sinceStmt = db.prepare<[number, number], StoredMessage>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE direction = 'in' AND muted = 0 AND seq > ? ORDER BY seq LIMIT ?`,
    )
    // A copy left in the mailbox was sealed to the old key, which the peer no longer holds: deposit again.
    this.rekeyStmt = db.prepare<[string, string]>(REKEY_QUEUED_SQL)
    this.latestStmt = db.prepare<[], { seq: number | null }>('SELECT MAX(seq) AS seq FROM messages')
  }

  /** Adds a message to the outbox; returns its seq. */
  enqueue(message: Omit<OutgoingRow, 'seq'>): number {
    return this.enqueueMany([message])[0] as number
  }

  /**
   * Adds messages to the outbox in order, in statements of up to 64 rows; returns their
   * seqs. The rows of one statement get consecutive seqs: SQLite gives each new row the largest
   * rowid so far plus one (no AUTOINCREMENT, and rows are never deleted).
   */
  enqueueMany(messages: ReadonlyArray<Omit<OutgoingRow, 'seq'>>): number[] {
    const seqs: number[] = []
    let at = 0
    for (const size of statementSizes(messages.length)) {
      const params: Array<string | number> = []
      for (let i = at; i < at + size; i++) {
        const m = messages[i] as Omit<OutgoingRow, 'seq'>
        params.push(m.id, m.peer, m.peerKey, m.text, m.at, m.storedAt)
      }
      const last = Number(this.insertOut.get(size).run(params).lastInsertRowid)
      for (let i = 0; i < size; i++) seqs.push(last - size + 1 + i)
      at += size
    }
    return seqs
  }

  /** Stores an incoming message; returns its seq, or undefined when (sender, id) was stored before. */
  receive(message: IncomingMessage, now = Date.now()): number | undefined {
    return this.receiveMany([message], now)[0]
  }

  /**
   * Stores incoming messages in order, in statements of up to 64 rows; returns each one's
   * seq, or undefined for one stored before (by an earlier statement, or earlier in this list).
   * A turn's messages in one statement cost about half as much per row as a statement each.
   */
  receiveMany(messages: readonly IncomingMessage[], now = Date.now()): Array<number | undefined> {
    const seqs: Array<number | undefined> = []
    let at = 0
    for (const size of statementSizes(messages.length)) {
      const chunk = messages.slice(at, at + size)
      at += size
      const params: Array<string | number> = []
      for (const m of chunk) params.push(m.id, m.peer, m.peerKey, m.text, m.at, now, m.muted ? 1 : 0)
      const { changes, lastInsertRowid } = this.insertIn.get(size).run(params)
      // The rows a statement inserts get consecutive seqs (largest rowid so far plus one each, as
      // in enqueueMany), in the order of its VALUES: all new (the usual case) needs no query.
      const last = Number(lastInsertRowid)
      if (changes === size) for (let i = 0; i < size; i++) seqs.push(last - size + 1 + i)
      else if (changes === 0) for (let i = 0; i < size; i++) seqs.push(undefined)
      else seqs.push(...this.matchInserted(chunk, last - changes + 1, last))
    }
    return seqs
  }

  /** Which of `chunk` got the seqs from `first` to `last`; the others were stored before (or twice in it). */
  private matchInserted(chunk: readonly IncomingMessage[], first: number, last: number): Array<number | undefined> {
    const inserted = new Map<string, number>()
    for (const row of this.insertedInStmt.all(first, last)) inserted.set(`${row.peer} ${row.id}`, row.seq)
    return chunk.map((m) => {
      const key = `${m.peer} ${m.id}`
      const seq = inserted.get(key)
      // A second copy later in the same statement was not inserted: it is a duplicate.
      inserted.delete(key)
      return seq
    })
  }

  /**
   * Queued messages to `peer` after `afterSeq`, oldest first: at most `limit`, and none after the
   * one that brings their text to `maxChars`. Rows are read one at a time so that the rest are
   * never loaded: a backlog of 64 KiB messages refilling a window of a few MB must not read
   * thousands of them to send a few dozen.
   */
  queuedFor(peer: string, afterSeq: number, limit: number, maxChars = Number.POSITIVE_INFINITY): OutgoingRow[] {
    const rows: OutgoingRow[] = []
    let chars = 0
    for (const row of this.queuedStmt.iterate(peer, afterSeq, limit)) {
      rows.push(row)
      chars += row.text.length
      if (chars >= maxChars) break
    }
    return rows
  }

  /** Messages still queued for `peer` go to its new key (after `trust`); returns how many. */
  rekeyQueued(peer: string, peerKey: string): number {
    return this.rekeyStmt.run(peerKey, peer).changes
  }

  /** Returns whether the message was queued (a repeated ack changes nothing). */
  markDelivered(seq: number): boolean {
    return this.markDeliveredMany([seq]) > 0
  }

  /**
   * The same for many, in statements of up to 64 rows: a turn's acks cost about half as much per
   * row as an UPDATE each (BENCHMARKS.md, B1). Returns how many were queued.
   */
  markDeliveredMany(seqs: readonly number[]): number {
    let changed = 0
    let at = 0
    for (const size of statementSizes(seqs.length)) {
      changed += this.deliver.get(size).run(seqs.slice(at, at + size)).changes
      at += size
    }
    return changed
  }

  /** The same, for a message acknowledged through the mailbox: it was deposited there, so it is found among those. */
  markDepositedDelivered(peer: string, id: string): boolean {
    return this.deliverDepositedStmt.run(peer, id).changes > 0
  }

  markFailed(seq: number, reason: string): boolean {
    return this.failStmt.run(reason, seq).changes > 0
  }

  /** Queued messages stored before `storedBefore` become failed; returns them. */
  expire(storedBefore: number): Array<{ id: string; peer: string }> {
    return this.expireStmt.all(storedBefore)
  }

  counts(): { queued: number; failed: number } {
    return this.countsStmt.get() ?? { queued: 0, failed: 0 }
  }

  peersWithQueued(): string[] {
    return this.queuedPeersStmt.all().map((row) => row.peer)
  }

  history(options: { peer?: string; limit: number; includeMuted: boolean }): StoredMessage[] {
    const includeMuted = options.includeMuted ? 1 : 0
    return options.peer ? this.historyPeer.all(options.peer, includeMuted, options.limit) : this.historyAll.all(includeMuted, options.limit)
  }

  /** Incoming, unmuted messages after `cursor`, for subscribers catching up. */
  incomingSince(cursor: number, limit: number): StoredMessage[] {
    return this.sinceStmt.all(cursor, limit)
  }

  latestCursor(): number {
    return this.latestStmt.get()?.seq ?? 0
  }
}
