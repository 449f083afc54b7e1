/**
 * The profile's SQLite database: WAL mode, migrations numbered by `PRAGMA user_version`.
 * synchronous=NORMAL in WAL keeps every committed transaction across a process crash (kill -9);
 * what must also survive a power loss (a message we acknowledge, a `send` we answer) waits for
 * WalSync's fdatasync of the WAL, one per group of commits, off the event loop.
 */
import type Database from 'better-sqlite3'
import { openSqlite } from '../../protocol/migrate.js'

export type Db = Database.Database

const MIGRATIONS: string[] = [
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
    peer_key    TEXT NOT NULL,     -- the other side's public key (hex): dedupe is by key, not name
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
]

export function openDatabase(path: string): Db {
  // Checkpoints are the checkpointer's job (a worker thread, see checkpointer.ts); this threshold
  // (200 MB of WAL) is only a backstop. The WAL file is cut back to 64 MB after a checkpoint.
  return openSqlite(path, MIGRATIONS, `the profile database ${path}`, ['wal_autocheckpoint = 50000', 'journal_size_limit = 67108864'])
}
