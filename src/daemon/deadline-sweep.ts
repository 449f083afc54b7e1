/**
 * Timeouts for many waits that share a few durations: one timer per duration instead of one per
 * wait. Every `send` waits up to its timeout for the peer's ack, and a timer of its own (set, then
 * cleared by the ack) cost the sender a Timeout object and two list operations per message.
 *
 * Entries of one duration fall due in the order they were added (the clock is monotonic), so each
 * duration is a queue: its timer is armed for the first entry still waiting, and entries finished
 * early leave the front of the queue as they finish, which keeps the queue as long as what waits.
 */

export interface Deadline {
  /** When it falls due, on the sweep's clock (set by `add`). */
  due: number
  /** Finished by other means: it no longer falls due. */
  done: boolean
}

interface Lane<T> {
  entries: T[]
  /** Entries before this index have left the queue. */
  head: number
  timer: ReturnType<typeof setTimeout> | undefined
}

/** Past this many entries gone from the front, the array is cut down to what is left. */
const COMPACT_AT = 1024

export class DeadlineSweep<T extends Deadline> {
  private readonly lanes = new Map<number, Lane<T>>()

  /** `expire` hears each entry that falls due while not done; it is marked done first. */
  constructor(
    private readonly expire: (entry: T) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** `entry` falls due after `ms` unless `finish` is called for it first. */
  add(entry: T, ms: number): void {
    entry.due = this.now() + ms
    entry.done = false
    let lane = this.lanes.get(ms)
    if (!lane) {
      lane = { entries: [], head: 0, timer: undefined }
      this.lanes.set(ms, lane)
    }
    lane.entries.push(entry)
    if (!lane.timer) this.arm(ms, lane)
  }

  /** `entry`, added with `ms`, is finished: it will not fall due. */
  finish(entry: T, ms: number): void {
    entry.done = true
    const lane = this.lanes.get(ms)
    if (lane) this.dropFinished(lane)
  }

  /** Entries still waiting, over every duration (for tests and status). */
  get size(): number {
    let waiting = 0
    for (const lane of this.lanes.values()) for (let i = lane.head; i < lane.entries.length; i++) if (!lane.entries[i]?.done) waiting++
    return waiting
  }

  private arm(ms: number, lane: Lane<T>): void {
    const first = lane.entries[lane.head] as T
    lane.timer = setTimeout(() => this.sweep(ms, lane), Math.max(0, first.due - this.now()))
    // A wait with nothing else alive (the daemon stopped) must not hold the process open.
    lane.timer.unref?.()
  }

  private sweep(ms: number, lane: Lane<T>): void {
    lane.timer = undefined
    const now = this.now()
    while (lane.head < lane.entries.length) {
      const entry = lane.entries[lane.head] as T
      if (!entry.done && entry.due > now) break
      lane.head++
      if (!entry.done) {
        entry.done = true
        this.expire(entry)
      }
    }
    this.dropFinished(lane)
    if (lane.head >= lane.entries.length) {
      if (this.lanes.get(ms) === lane) this.lanes.delete(ms)
      return
    }
    this.arm(ms, lane)
  }

  private dropFinished(lane: Lane<T>): void {
    while (lane.head < lane.entries.length && (lane.entries[lane.head] as T).done) lane.head++
    if (lane.head === lane.entries.length) {
      lane.entries = []
      lane.head = 0
    } else if (lane.head >= COMPACT_AT && lane.head * 2 >= lane.entries.length) {
      lane.entries = lane.entries.slice(lane.head)
      lane.head = 0
    }
  }
}
