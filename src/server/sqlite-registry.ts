/**
 * The default registry: one embedded SQLite file. Bindings persist across restarts (that is the
 * point of a reservation); leases and nonces persist too but carry absolute expiry times, so a
 * restart never brings a stale peer back online.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type Database from 'better-sqlite3'
import { openSqlite } from '../protocol/migrate.js'
import type { KeepaliveInput, KeepaliveOutcome } from './registry.js'
import { type Binding, type Peer, type RegisterInput, type Registry, sameHolder } from './registry.js'

/** Schema versions, applied in order; `PRAGMA user_version` records how many have run. */
export const REGISTRY_MIGRATIONS = [
  `CREATE TABLE bindings (
     user_id TEXT PRIMARY KEY,
     public_key TEXT NOT NULL,
     reserved_until INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE leases (
     user_id TEXT PRIMARY KEY REFERENCES bindings(user_id) ON DELETE CASCADE,
     host TEXT NOT NULL,
     port INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX leases_expires_at ON leases(expires_at);
   CREATE TABLE nonces (
     user_id TEXT NOT NULL,
     sig TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     PRIMARY KEY (user_id, sig)
   ) WITHOUT ROWID;
   CREATE INDEX nonces_expires_at ON nonces(expires_at);`,
  // 2: which daemon instance holds a lease (a copied profile must not split a user in two).
  `ALTER TABLE leases ADD COLUMN instance TEXT;`,
  // 3: nonces keyed by expiry first, one B-tree and no index beside it: every keep-alive inserts
  // one, near the right end (expiries climb with the clock), and the sweep cuts a prefix. 128 bits
  // of a signature or MAC name it (as in Redis); its expiry is its signed ts plus the window, so a
  // replay carries the same expiry and meets its own row.
  `CREATE TABLE nonces_by_expiry (
     expires_at INTEGER NOT NULL,
     user_id TEXT NOT NULL,
     nonce TEXT NOT NULL,
     PRIMARY KEY (expires_at, user_id, nonce)
   ) WITHOUT ROWID;
   INSERT OR IGNORE INTO nonces_by_expiry SELECT expires_at, user_id, substr(sig, 1, 32) FROM nonces;
   DROP TABLE nonces;`,
]

/** How much of a proof names it as a replay nonce (hex characters: 128 bits). */
const NONCE_CHARS = 32

interface PeerRow {
  user_id: string
  public_key: string
  host: string
  port: number
  last_seen: number
  expires_at: number
}

const toPeer = (r: PeerRow): Peer => ({
  userId: r.user_id,
  publicKey: r.public_key,
  host: r.host,
  port: r.port,
  lastSeen: r.last_seen,
  expiresAt: r.expires_at,
})

const PEER_COLUMNS = 'l.user_id, b.public_key, l.host, l.port, l.last_seen, l.expires_at FROM leases l JOIN bindings b USING (user_id)'

interface Pending {
  write: () => unknown
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

export class SqliteRegistry implements Registry {
  readonly #db: Database.Database
  readonly #stmt
  readonly #registerWrite
  readonly #keepaliveWrite
  readonly #commit
  readonly #path: string
  #pending: Pending[] = []

  constructor(path: string) {
    this.#path = path
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    // Durable across a process crash (WAL + NORMAL), which is what a name reservation needs.
    const db = openSqlite(path, REGISTRY_MIGRATIONS, `the registry database ${path}`, ['foreign_keys = ON'])
    this.#db = db
    this.#stmt = {
      binding: db.prepare<[string, number], { user_id: string; public_key: string; reserved_until: number }>(
        'SELECT user_id, public_key, reserved_until FROM bindings WHERE user_id = ? AND reserved_until > ?',
      ),
      upsertBinding: db.prepare<[string, string, number]>(
        `INSERT INTO bindings (user_id, public_key, reserved_until) VALUES (?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET public_key = excluded.public_key, reserved_until = excluded.reserved_until`,
      ),
      upsertLease: db.prepare<[string, string, number, number, number, string | null]>(
        `INSERT INTO leases (user_id, host, port, last_seen, expires_at, instance) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET host = excluded.host, port = excluded.port,
           last_seen = excluded.last_seen, expires_at = excluded.expires_at, instance = excluded.instance`,
      ),
      leaseHolder: db.prepare<[string, number], { instance: string | null }>(
        'SELECT instance FROM leases WHERE user_id = ? AND expires_at > ?',
      ),
      renewLease: db.prepare<[number, number, string, number]>(
        'UPDATE leases SET last_seen = ?, expires_at = ? WHERE user_id = ? AND expires_at > ?',
      ),
      extendReservation: db.prepare<[number, string]>('UPDATE bindings SET reserved_until = max(reserved_until, ?) WHERE user_id = ?'),
      // An instance ends only its own lease; a request naming none ends whichever is there.
      deleteLease: db.prepare<[{ userId: string; instance: string | null }]>(
        'DELETE FROM leases WHERE user_id = @userId AND (@instance IS NULL OR instance IS NULL OR instance = @instance)',
      ),
      claimNonce: db.prepare<[number, string, string]>(
        'INSERT OR IGNORE INTO nonces_by_expiry (expires_at, user_id, nonce) VALUES (?, ?, ?)',
      ),
      peer: db.prepare<[string, number], PeerRow>(`SELECT ${PEER_COLUMNS} WHERE l.user_id = ? AND l.expires_at > ?`),
      online: db.prepare<[string, number, number], PeerRow>(
        `SELECT ${PEER_COLUMNS} WHERE l.user_id > ? AND l.expires_at > ? ORDER BY l.user_id LIMIT ?`,
      ),
      sweepLeases: db.prepare<[number]>('DELETE FROM leases WHERE expires_at <= ?'),
      sweepNonces: db.prepare<[number]>('DELETE FROM nonces_by_expiry WHERE expires_at < ?'),
      sweepBindings: db.prepare<[number]>(
        'DELETE FROM bindings WHERE reserved_until <= ? AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.user_id = bindings.user_id)',
      ),
    }
    const s = this.#stmt
    // Plain functions: #batched runs each in its own savepoint.
    this.#registerWrite = (input: RegisterInput): Peer | 'taken' | 'elsewhere' => {
      const held = s.binding.get(input.userId, input.now)
      if (held && held.public_key !== input.publicKey) return 'taken'
      const lease = s.leaseHolder.get(input.userId, input.now)
      if (lease && !sameHolder(lease.instance, input.instance)) return 'elsewhere'
      s.upsertBinding.run(input.userId, input.publicKey, input.reservedUntil)
      s.upsertLease.run(input.userId, input.host, input.port, input.now, input.expiresAt, input.instance ?? null)
      return {
        userId: input.userId,
        publicKey: input.publicKey,
        host: input.host,
        port: input.port,
        lastSeen: input.now,
        expiresAt: input.expiresAt,
      }
    }
    this.#keepaliveWrite = (input: KeepaliveInput): KeepaliveOutcome => {
      const { userId, now } = input
      if (s.binding.get(userId, now)?.public_key !== input.publicKey) return 'mismatch'
      if (!this.#claim(userId, input.nonce, input.nonceExpiresAt)) return 'replayed'
      const lease = s.leaseHolder.get(userId, now)
      if (!lease || !sameHolder(lease.instance, input.instance)) return 'gone'
      s.renewLease.run(now, input.expiresAt, userId, now)
      s.extendReservation.run(input.reservedUntil, userId)
      return { expiresAt: input.expiresAt }
    }
    const savepoint = db.transaction((write: () => unknown) => write())
    this.#commit = db.transaction((batch: Pending[]): Outcome[] => {
      // A write alone needs no savepoint: if it throws, the whole transaction is its own.
      if (batch.length === 1) return [{ ok: true, value: batch[0]!.write() }]
      return batch.map(({ write }): Outcome => {
        try {
          return { ok: true, value: savepoint(write) }
        } catch (error) {
          return { ok: false, error }
        }
      })
    })
  }

  async register(input: RegisterInput): Promise<Peer | 'taken' | 'elsewhere'> {
    return this.#batched(() => this.#registerWrite(input))
  }

  async binding(userId: string, now: number): Promise<Binding | undefined> {
    const row = this.#stmt.binding.get(userId, now)
    return row ? { userId: row.user_id, publicKey: row.public_key, reservedUntil: row.reserved_until } : undefined
  }

  async keepalive(input: KeepaliveInput): Promise<KeepaliveOutcome> {
    return this.#batched(() => this.#keepaliveWrite(input))
  }

  async unregister(userId: string, instance?: string): Promise<boolean> {
    return this.#batched(() => this.#stmt.deleteLease.run({ userId, instance: instance ?? null }).changes > 0)
  }

  async claimNonce(userId: string, sig: string, expiresAt: number): Promise<boolean> {
    return this.#batched(() => this.#claim(userId, sig, expiresAt))
  }

  #claim(userId: string, sig: string, expiresAt: number): boolean {
    return this.#stmt.claimNonce.run(expiresAt, userId, sig.slice(0, NONCE_CHARS)).changes === 1
  }

  /**
   * Writes of one turn of the event loop share one transaction: under load every keep-alive is a
   * nonce insert and a lease update, and one commit for a few hundred of them costs about what one
   * costs alone. Each write runs in its own savepoint (a nested transaction), so one that throws
   * fails alone; callers hear of their write only once the batch is committed. The transaction
   * functions are made once: better-sqlite3 builds a wrapper each time one is made.
   */
  #batched<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ write, resolve: resolve as (v: unknown) => void, reject })
      if (this.#pending.length === 1) setImmediate(() => this.#flush())
    })
  }

  #flush(): void {
    const batch = this.#pending
    this.#pending = []
    if (batch.length === 0) return
    let outcomes: Outcome[]
    try {
      outcomes = this.#commit.immediate(batch)
    } catch (error) {
      for (const { reject } of batch) reject(error)
      return
    }
    batch.forEach(({ resolve, reject }, i) => {
      const outcome = outcomes[i]!
      if (outcome.ok) resolve(outcome.value)
      else reject(outcome.error)
    })
  }

  async peer(userId: string, now: number): Promise<Peer | undefined> {
    const row = this.#stmt.peer.get(userId, now)
    return row ? toPeer(row) : undefined
  }

  async onlinePeers(now: number, limit: number, after = ''): Promise<Peer[]> {
    return this.#stmt.online.all(after, now, limit).map(toPeer)
  }

  async sweep(now: number): Promise<void> {
    this.#db.transaction(() => {
      this.#stmt.sweepLeases.run(now)
      this.#stmt.sweepNonces.run(now)
      this.#stmt.sweepBindings.run(now)
    })()
  }

  async close(): Promise<void> {
    if (!this.#db.open) return
    this.#flush()
    this.#db.close()
  }

  /**
   * Kept in a file beside the database (0600), not in it: a secret has no place in backups of the
   * registry, and the schema stays as it is. Made on first use; a restart reads it back, so the
   * daemons' lease keys stay good.
   */
  async leaseSecret(): Promise<Buffer> {
    if (this.#path === ':memory:') return this.#memorySecret
    const file = `${this.#path}.lease-secret`
    try {
      writeFileSync(file, randomBytes(32), { flag: 'wx', mode: 0o600 })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const secret = readFileSync(file)
    if (secret.length !== 32) throw new Error(`${file} is not a 32-byte secret; remove it to make a new one`)
    return secret
  }
  readonly #memorySecret = randomBytes(32)
}
