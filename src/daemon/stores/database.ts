/**
 * The profile's SQLite database: WAL mode, migrations numbered by `PRAGMA user_version`.
 * synchronous=NORMAL in WAL keeps every committed transaction across a process crash (kill -9);
 * what must also survive a power loss (a message we acknowledge, a `send` we answer) waits for
 * WalSync's fdatasync of the WAL, one per group of commits, off the event loop.
 */
import type Database from 'better-sqlite3'
import { openSqlite } from '../../protocol/migrate.js'

export type Db = Database.Database

export const PROFILE_MIGRATIONS: readonly string[] = [
  // 1: everything a profile owns besides its key file.
  `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  -- Peers this daemon knows: pinned key (trust on first contact, checked against discovery),
  -- and where we last saw them.
  CREATE TABLE peers (
    user_id    TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    pinned_at  INTEGER NOT NULL,
    host       TEXT,
    port       INTEGER,
    last_seen  INTEGER
  );

  CREATE TABLE policy (
    user_id     TEXT PRIMARY KEY,
    blocked     INTEGER NOT NULL DEFAULT 0,
    muted       INTEGER NOT NULL DEFAULT 0,
    muted_until INTEGER            -- ms since epoch; NULL while muted = until unmuted
  );

  -- One table for both directions: history is one query, and the rowid (seq) is the cursor.
  -- Rows are never deleted, so the rowid only grows without AUTOINCREMENT's extra write per insert.
  CREATE TABLE messages (
    seq         INTEGER PRIMARY KEY,
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    id          TEXT NOT NULL,
    peer        TEXT NOT NULL,     -- the other side's user id
    peer_key    TEXT NOT NULL,     -- the other side's public key (hex)
    text        TEXT NOT NULL,
    at          INTEGER NOT NULL,  -- the sender's clock, ms
    stored_at   INTEGER NOT NULL,
    status      TEXT,              -- out: queued | delivered | failed
    muted       INTEGER NOT NULL DEFAULT 0,
    error       TEXT
  );
  CREATE UNIQUE INDEX messages_dedupe ON messages (direction, peer_key, id);
  CREATE INDEX messages_outbox ON messages (peer, seq) WHERE status = 'queued';
  CREATE INDEX messages_peer ON messages (peer, seq);
  `,
  // 2: `status` counts failed messages from an index of them alone, not by scanning the history.
  `CREATE INDEX messages_failed ON messages (seq) WHERE status = 'failed';`,
  // 3: when a queued message was left, sealed, in the peer's mailbox at the server (SPEC section 10).
  // It stays queued until the peer acknowledges it; the index counts those for `status`.
  `ALTER TABLE messages ADD COLUMN deposited_at INTEGER;
   CREATE INDEX messages_deposited ON messages (seq) WHERE status = 'queued' AND deposited_at IS NOT NULL;`,
  // 4: a compact dedupe index, of incoming messages only. Outgoing rows are found by seq (the
  // outbox knows each one's), so sending no longer inserts a random nanoid into an index: that
  // insert dirtied a page of it per message, and each dirty page is 4 KiB more per commit
  // (BENCHMARKS.md, B1). Incoming messages are deduplicated by sender name and id, a third of
  // the key's size; a name is bound to one key, and a sender whose key changed keeps its ids.
  // Rows that the new key would call duplicates (the same id from two keys of one sender) are
  // kept, with the seq appended to the later ones' ids.
  `UPDATE messages SET id = id || '#' || seq WHERE direction = 'in'
     AND seq NOT IN (SELECT min(seq) FROM messages WHERE direction = 'in' GROUP BY peer, id);
   DROP INDEX messages_dedupe;
   CREATE UNIQUE INDEX messages_dedupe_in ON messages (peer, id) WHERE direction = 'in';`,
]

export function openDatabase(path: string): Db {
  // Checkpoints are the checkpointer's job (a worker thread, see checkpointer.ts); this threshold
  // (200 MB of WAL) is only a backstop. The WAL file is cut back to 64 MB after a checkpoint.
  return openSqlite(path, PROFILE_MIGRATIONS, `the profile database ${path}`, [
    'wal_autocheckpoint = 50000',
    'journal_size_limit = 67108864',
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection; once a burst had filled
    // it, it stayed in the daemon's memory for good (BENCHMARKS.md, B10). The pages the hot path
    // touches (the ends of the tables and indexes) fit in SQLite's own default of 2 MB.
    'cache_size = -2000',
  ])
}
