import type { Db } from './database.js'

/** Small key-value settings of a profile: its user id, server URL, listening port. */
export class SettingsStore {
  private readonly getStmt
  private readonly setStmt

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?')
    this.setStmt = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
  }

  get(key: string): string | undefined {
    return this.getStmt.get(key)?.value
  }

  set(key: string, value: string): void {
    this.setStmt.run(key, value)
  }
}
