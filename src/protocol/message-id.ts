/**
 * Message ids: 21 characters of nanoid's url-safe alphabet, the first 8 the sender's clock (ms)
 * and the other 13 from nanoid (78 random bits; ids need be unique per sender only, since the
 * receiver deduplicates by sender and id).
 *
 * Why time first: the receiver keeps every incoming id in a unique index per sender, and a
 * random id lands on a random page of it, so a batch of n messages dirtied up to n pages (4 KiB
 * of WAL each) and the cost grew with the history: 29-36 us per received message against 5.6
 * with ids that grow, as UUIDv7 and ULID do for the same reason (BENCHMARKS.md, B1). Ids from
 * other senders may be anything the schema allows; they only cost more to store.
 */
import { nanoid } from 'nanoid'

/** The url-safe alphabet in ASCII order, so that ids sort as their times do (SQLite's BINARY collation). */
const SORTED_ALPHABET = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz'
const TIME_CHARS = 8 // 64^8 ms: until the year 10889
const RANDOM_CHARS = 13

/** Pure: the 8-character prefix of a time, in an order that sorts as the time does. */
export function timePrefix(ms: number): string {
  let rest = Math.max(0, Math.floor(ms))
  let prefix = ''
  for (let i = 0; i < TIME_CHARS; i++) {
    prefix = SORTED_ALPHABET[rest % 64] + prefix
    rest = Math.floor(rest / 64)
  }
  return prefix
}

// The prefix of the last millisecond an id was made in: under load dozens of sends share one,
// and building it is eight string allocations (0.39 -> 0.25 us per id in a micro-benchmark).
let lastMs = Number.NaN
let lastPrefix = ''

export function newMessageId(now = Date.now()): string {
  if (now !== lastMs) {
    lastMs = now
    lastPrefix = timePrefix(now)
  }
  return lastPrefix + nanoid(RANDOM_CHARS)
}
