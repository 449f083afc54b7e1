import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Db, openDatabase } from '../../src/daemon/stores/database.js'

/** A fresh profile database in its own temp dir. */
export const tempDb = (): Db => openDatabase(join(mkdtempSync(join(tmpdir(), 'p2p-db-')), 'p2p.db'))
