import { describe, expect, it } from 'vitest'
import { WriteBatcher } from '../../src/daemon/stores/write-batcher.js'
import { tempDb } from '../helpers/temp-db.js'

describe('WriteBatcher', () => {
  it('commits a turn of writes together; one failing write does not sink the others', async () => {
    const db = tempDb()
    db.exec('CREATE TABLE t (v INTEGER UNIQUE)')
    const batcher = new WriteBatcher(db)
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
    const results = await Promise.allSettled([1, 2, 2, 3].map((v) => batcher.run(() => insert.run(v).changes)))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 3 })
  })
})
