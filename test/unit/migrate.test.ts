import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { openDatabase, PROFILE_MIGRATIONS } from '../../src/daemon/stores/database.js'
import { migrate, SchemaTooNewError } from '../../src/protocol/migrate.js'
import { SqliteRegistry } from '../../src/server/sqlite-registry.js'

const tempPath = (name: string) => join(mkdtempSync(join(tmpdir(), 'p2p-migrate-')), name)

/** A database file that a future version of p2p wrote. */
function fromTheFuture(path: string): string {
  const db = new Database(path)
  db.pragma('user_version = 99')
  db.close()
  return path
}

describe('migrate', () => {
  it('applies what is missing, in order, once', () => {
    const db = new Database(':memory:')
    migrate(db, ['CREATE TABLE a (x)'], 'test db')
    migrate(db, ['CREATE TABLE a (x)', 'CREATE TABLE b (y)'], 'test db')
    migrate(db, ['CREATE TABLE a (x)', 'CREATE TABLE b (y)'], 'test db')
    expect(db.pragma('user_version', { simple: true })).toBe(2)
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all()).toEqual(['a', 'b'])
  })

  it('a failing migration leaves the database as it was', () => {
    const db = new Database(':memory:')
    expect(() => migrate(db, ['CREATE TABLE a (x)', 'NOT SQL'], 'test db')).toThrow()
    expect(db.pragma('user_version', { simple: true })).toBe(0)
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get()).toBe(0)
  })

  it('the daemon store and the server registry both refuse a database newer than the code', () => {
    expect(() => openDatabase(fromTheFuture(tempPath('p2p.db')))).toThrow(SchemaTooNewError)
    expect(() => new SqliteRegistry(fromTheFuture(tempPath('registry.db')))).toThrow(/newer than this version of p2p/)
  })

  it('moving to the compact dedupe index keeps every message, even two that it would call one', () => {
    const path = tempPath('p2p.db')
    const old = new Database(path)
    migrate(old, PROFILE_MIGRATIONS.slice(0, 3), 'profile at version 3')
    const insert = old.prepare(
      `INSERT INTO messages (direction, id, peer, peer_key, text, at, stored_at) VALUES ('in', ?, 'alice', ?, ?, 1, 1)`,
    )
    insert.run('same-id', 'old-key', 'first')
    insert.run('same-id', 'new-key', 'second')
    insert.run('other-id', 'new-key', 'third')
    old.close()
    const db = openDatabase(path)
    const rows = db.prepare('SELECT id, text FROM messages ORDER BY seq').all()
    expect(rows).toEqual([
      { id: 'same-id', text: 'first' },
      { id: 'same-id#2', text: 'second' },
      { id: 'other-id', text: 'third' },
    ])
  })
})
