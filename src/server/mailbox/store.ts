/**
 * Where a discovery server keeps mailbox items (SPEC section 10), behind one small async interface
 * like the registry's: SQLite and memory now, Redis later. Each method that must be atomic across
 * server instances (deposit within the quota) is one call here, never a read-then-write above it.
 * The store holds opaque sealed bytes: it never sees a sender or a text.
 *
 * Times are absolute milliseconds, passed in; the store keeps no clock and no policy of its own.
 */

export interface MailboxItem {
  /** Server-made, decimal, increasing per store: the order items were deposited in. */
  id: string
  box: Buffer
  depositedAt: number
  expiresAt: number
}

export interface MailboxQuota {
  maxItems: number
  maxBytes: number
}

export interface MailboxStore {
  /** Stores `box` for `recipient` unless that takes its mailbox past `quota`: then 'full', and nothing is stored. */
  deposit(recipient: string, box: Buffer, now: number, expiresAt: number, quota: MailboxQuota): Promise<MailboxItem | 'full'>
  /** Items of `recipient` still live at `now`, oldest first, after the item `after`, at most `limit`. */
  list(recipient: string, now: number, limit: number, after?: string): Promise<MailboxItem[]>
  /** Deletes the recipient's items among `ids` (others' ids are ignored); returns how many went. */
  delete(recipient: string, ids: readonly string[]): Promise<number>
  /** Forgets expired items. Correctness never depends on it running (reads check expiry). */
  sweep(now: number): Promise<void>
  close(): Promise<void>
}
