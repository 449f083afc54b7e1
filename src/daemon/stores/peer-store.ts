import type { Db } from './database.js'

export interface KnownPeer {
  userId: string
  publicKey: string
  host: string | null
  port: number | null
  lastSeen: number | null
}

/**
 * Peers this daemon has met, with the key pinned at first contact. A pinned key never changes by
 * itself: a peer presenting another key is refused (see peer-auth.ts) until the user resolves it.
 */
export class PeerStore {
  /** Every send asks for the peer's key: answered from memory once read. */
  private readonly cache = new Map<string, KnownPeer>()
  private readonly getStmt
  private readonly allStmt
  private readonly pinStmt
  private readonly seenStmt
  private readonly repinStmt

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], KnownPeer>(
      'SELECT user_id AS userId, public_key AS publicKey, host, port, last_seen AS lastSeen FROM peers WHERE user_id = ?',
    )
    this.allStmt = db.prepare<[], KnownPeer>(
      'SELECT user_id AS userId, public_key AS publicKey, host, port, last_seen AS lastSeen FROM peers ORDER BY user_id',
    )
    this.pinStmt = db.prepare('INSERT INTO peers (user_id, public_key, pinned_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO NOTHING')
    this.repinStmt = db.prepare(
      'INSERT INTO peers (user_id, public_key, pinned_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET public_key = excluded.public_key, pinned_at = excluded.pinned_at',
    )
    this.seenStmt = db.prepare('UPDATE peers SET host = ?, port = ?, last_seen = ? WHERE user_id = ?')
  }

  get(userId: string): KnownPeer | undefined {
    const cached = this.cache.get(userId)
    if (cached) return cached
    const row = this.getStmt.get(userId)
    if (row) this.cache.set(userId, row)
    return row
  }

  all(): KnownPeer[] {
    return this.allStmt.all()
  }

  /** Pins `publicKey` for `userId` unless a key is pinned already; returns the pinned key. */
  pin(userId: string, publicKey: string, now = Date.now()): string {
    if (this.pinStmt.run(userId, publicKey, now).changes > 0) this.cache.delete(userId)
    return (this.get(userId) as KnownPeer).publicKey
  }

  /** Replaces a pinned key: only for `trust`, after the user compared fingerprints out of band. */
  repin(userId: string, publicKey: string, now = Date.now()): void {
    this.repinStmt.run(userId, publicKey, now)
    this.cache.delete(userId)
  }

  seen(userId: string, host: string, port: number, now = Date.now()): void {
    this.seenStmt.run(host, port, now, userId)
    this.cache.delete(userId)
  }
}
