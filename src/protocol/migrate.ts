/**
 * Schema versions of an SQLite database, shared by the daemon's profile store and the discovery
 * server's registry: migrations numbered by `PRAGMA user_version`, applied in order in one
 * transaction. A database written by a newer version of p2p is refused rather than opened: the
 * old code would not know its columns, and writing to it could lose what the new code stored.
 */
import Database from 'better-sqlite3'

export class SchemaTooNewError extends Error {
  constructor(
    readonly what: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(`${what} is at schema version ${found}, newer than this version of p2p knows (${known}): upgrade p2p to open it`)
    this.name = 'SchemaTooNewError'
  }
}

/**
 * Opens (creating) an SQLite file the way both of our databases want it: WAL, so readers never
 * wait for the writer, with synchronous=NORMAL, which keeps every commit across a process crash
 * (only a power loss can take the last few back); then migrated, and closed again on refusal.
 */
export function openSqlite(path: string, migrations: readonly string[], what: string, pragmas: readonly string[] = []): Database.Database {
  const db = new Database(path)
  for (const pragma of ['journal_mode = WAL', 'synchronous = NORMAL', 'busy_timeout = 5000', ...pragmas]) db.pragma(pragma)
  try {
    migrate(db, migrations, what)
  } catch (error) {
    db.close()
    throw error
  }
  return db
}

/** Brings `db` up to `migrations.length`; `what` names the database in the error. */
export function migrate(db: Database.Database, migrations: readonly string[], what: string): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > migrations.length) throw new SchemaTooNewError(what, current, migrations.length)
  if (current === migrations.length) return
  db.transaction(() => {
    for (let version = current; version < migrations.length; version++) db.exec(migrations[version] as string)
    db.pragma(`user_version = ${migrations.length}`)
  })()
}
