/**
 * The mailbox in the server's SQLite file, beside the registry's tables. It opens its own
 * connection and creates its own tables (IF NOT EXISTS) instead of adding a migration to the
 * registry's: the two stores version separately, and either can move to Redis without the other.
 * WAL lets the two connections share the file; busy_timeout covers their rare write overlaps.
 *
 * A running count per recipient makes the quota check one row read, not a scan of the mailbox:
 * a recipient with 10,000 items would otherwise make every deposit read 10,000 index entries.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { MailboxItem, MailboxQuota, MailboxStore } from './store.js'

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS mailbox_items (
    id           INTEGER PRIMARY KEY,
    recipient    TEXT NOT NULL,
    box          BLOB NOT NULL,
    deposited_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS mailbox_items_recipient ON mailbox_items (recipient, id);
  CREATE INDEX IF NOT EXISTS mailbox_items_expires_at ON mailbox_items (expires_at);
  -- Each deposit first lets the recipient's expired items go: without this index, a scan of its mailbox.
  CREATE INDEX IF NOT EXISTS mailbox_items_recipient_expiry ON mailbox_items (recipient, expires_at);
  CREATE TABLE IF NOT EXISTS mailbox_totals (
    recipient TEXT PRIMARY KEY,
    items     INTEGER NOT NULL,
    bytes     INTEGER NOT NULL
  ) WITHOUT ROWID;
`

interface ItemRow {
  id: number
  box: Buffer
  deposited_at: number
  expires_at: number
}

const toItem = (r: ItemRow): MailboxItem => ({ id: String(r.id), box: r.box, depositedAt: r.deposited_at, expiresAt: r.expires_at })

export class SqliteMailboxStore implements MailboxStore {
  readonly #db: Database.Database
  readonly #depositTx
  readonly #deleteTx
  readonly #sweepTx
  readonly #list

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    const db = new Database(path)
    for (const pragma of ['journal_mode = WAL', 'synchronous = NORMAL', 'busy_timeout = 5000']) db.pragma(pragma)
    db.exec(SCHEMA)
    this.#db = db
    const totals = db.prepare<[string], { items: number; bytes: number }>('SELECT items, bytes FROM mailbox_totals WHERE recipient = ?')
    const insert = db.prepare<[string, Buffer, number, number]>(
      'INSERT INTO mailbox_items (recipient, box, deposited_at, expires_at) VALUES (?, ?, ?, ?)',
    )
    const adjustStmt = db.prepare<[{ recipient: string; items: number; bytes: number }]>(
      `INSERT INTO mailbox_totals (recipient, items, bytes) VALUES (@recipient, @items, @bytes)
       ON CONFLICT (recipient) DO UPDATE SET items = items + @items, bytes = bytes + @bytes`,
    )
    const adjust = (recipient: string, items: number, bytes: number) => adjustStmt.run({ recipient, items, bytes })
    const dropEmpty = db.prepare<[string]>('DELETE FROM mailbox_totals WHERE recipient = ? AND items <= 0')
    const deleteOne = db.prepare<[string, number], { size: number }>(
      'DELETE FROM mailbox_items WHERE recipient = ? AND id = ? RETURNING length(box) AS size',
    )
    const expireOf = db.prepare<[string, number], { size: number }>(
      'DELETE FROM mailbox_items WHERE recipient = ? AND expires_at <= ? RETURNING length(box) AS size',
    )
    const expired = db.prepare<[number], { recipient: string; items: number; bytes: number }>(
      'SELECT recipient, count(*) AS items, sum(length(box)) AS bytes FROM mailbox_items WHERE expires_at <= ? GROUP BY recipient',
    )
    const deleteExpired = db.prepare<[number]>('DELETE FROM mailbox_items WHERE expires_at <= ?')
    this.#list = db.prepare<[string, number, number, number], ItemRow>(
      'SELECT id, box, deposited_at, expires_at FROM mailbox_items WHERE recipient = ? AND id > ? AND expires_at > ? ORDER BY id LIMIT ?',
    )
    const release = (recipient: string, rows: Array<{ size: number }>) => {
      if (rows.length === 0) return
      adjust(recipient, -rows.length, -rows.reduce((sum, r) => sum + r.size, 0))
      dropEmpty.run(recipient)
    }
    this.#depositTx = db.transaction((recipient: string, box: Buffer, now: number, expiresAt: number, quota: MailboxQuota) => {
      // Expired items must not hold the quota until the next sweep.
      release(recipient, expireOf.all(recipient, now))
      const held = totals.get(recipient) ?? { items: 0, bytes: 0 }
      if (held.items + 1 > quota.maxItems || held.bytes + box.length > quota.maxBytes) return 'full' as const
      const id = Number(insert.run(recipient, box, now, expiresAt).lastInsertRowid)
      adjust(recipient, 1, box.length)
      return { id: String(id), box, depositedAt: now, expiresAt }
    })
    this.#deleteTx = db.transaction((recipient: string, ids: readonly string[]) => {
      const rows = ids.flatMap((id) => deleteOne.all(recipient, Number(id)))
      release(recipient, rows)
      return rows.length
    })
    this.#sweepTx = db.transaction((now: number) => {
      for (const r of expired.all(now)) {
        adjust(r.recipient, -r.items, -r.bytes)
        dropEmpty.run(r.recipient)
      }
      deleteExpired.run(now)
    })
  }

  async deposit(recipient: string, box: Buffer, now: number, expiresAt: number, quota: MailboxQuota): Promise<MailboxItem | 'full'> {
    return this.#depositTx.immediate(recipient, box, now, expiresAt, quota)
  }

  async list(recipient: string, now: number, limit: number, after?: string): Promise<MailboxItem[]> {
    return this.#list.all(recipient, after === undefined ? 0 : Number(after), now, limit).map(toItem)
  }

  async delete(recipient: string, ids: readonly string[]): Promise<number> {
    return this.#deleteTx.immediate(recipient, ids)
  }

  async sweep(now: number): Promise<void> {
    this.#sweepTx.immediate(now)
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close()
  }
}
