/**
 * `p2p history` must not slow down as the profile grows: each history statement reads one page,
 * the newest rows first, from the table's rowid order or the per-peer index, and never sorts the
 * whole history (BENCHMARKS.md, B3 on a long history).
 */
import { describe, expect, it } from 'vitest'
import type { Db } from '../../src/daemon/stores/database.js'
import { MessageStore } from '../../src/daemon/stores/message-store.js'
import { tempDb } from '../helpers/temp-db.js'

/** The SQL of every statement the store prepares, caught on their way to `prepare`. */
function preparedBy(db: Db): string[] {
  const statements: string[] = []
  const recording = new Proxy(db, {
    get(target, property) {
      if (property === 'prepare') {
        return (sql: string) => {
          statements.push(sql)
          return target.prepare(sql)
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  new MessageStore(recording)
  return statements
}

const plan = (db: Db, sql: string, params: unknown[]) =>
  db
    .prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...params)
    .map((row) => (row as { detail: string }).detail)

describe('history queries read one page, whatever the length of the history', () => {
  it('all peers: the newest rows in rowid order, then only the page is sorted', () => {
    const db = tempDb()
    const pages = preparedBy(db).filter((sql) => /ORDER BY seq DESC LIMIT \?/.test(sql))
    const all = pages.find((sql) => !/peer = \?/.test(sql))
    const onePeer = pages.find((sql) => /peer = \?/.test(sql))
    expect(all).toBeDefined()
    expect(onePeer).toBeDefined()

    // One temp B-tree only: the outer ORDER BY of the page. The inner scan needs no sort of its own.
    const allPlan = plan(db, all as string, [0, 50])
    expect(allPlan).toContain('SCAN messages')
    expect(allPlan.filter((d) => d.includes('TEMP B-TREE'))).toEqual(['USE TEMP B-TREE FOR ORDER BY'])

    const peerPlan = plan(db, onePeer as string, ['bob', 0, 50])
    expect(peerPlan.some((d) => /^SEARCH messages USING (COVERING )?INDEX messages_peer \(peer=\?\)$/.test(d))).toBe(true)
    expect(peerPlan.filter((d) => d.includes('TEMP B-TREE'))).toEqual(['USE TEMP B-TREE FOR ORDER BY'])
    expect(peerPlan.some((d) => /^SCAN messages/.test(d))).toBe(false)
  })

  it('and those statements are the ones history() runs: newest page, oldest first', () => {
    const db = tempDb()
    const store = new MessageStore(db)
    for (let i = 0; i < 6; i++) {
      const message = { id: `message-${i}`, peer: i % 2 ? 'bob' : 'carol', peerKey: 'k', text: `m${i}`, at: i }
      if (i % 3) store.receive({ ...message, muted: false }, i)
      else store.enqueue({ ...message, storedAt: i })
    }
    expect(store.history({ limit: 3, includeMuted: false }).map((m) => m.text)).toEqual(['m3', 'm4', 'm5'])
    expect(store.history({ peer: 'bob', limit: 2, includeMuted: false }).map((m) => m.text)).toEqual(['m3', 'm5'])
  })
})
