/**
 * The sending half of the message pipeline. Messages are committed to SQLite before anyone is
 * told "queued"; over a live link they go out in seq order with a window of unacknowledged frames;
 * an ack marks them delivered. On a new link everything still queued is sent again from the
 * start (the receiver drops duplicates), which is what makes kill -9 on either side safe.
 */
import type { DeliveryStatus } from '../protocol/rpc.js'
import { type Deadline, DeadlineSweep } from './deadline-sweep.js'
import type { MessageStore, OutgoingRow } from './stores/message-store.js'
import { TurnGroup } from './stores/turn-group.js'
import type { Outcome, WriteBatcher } from './stores/write-batcher.js'

/**
 * Unacknowledged messages in flight per link: enough to fill the pipe, bounded for memory. A
 * backlog goes out in refills of half a window, and each half passes the sender, the receiver's
 * commit and fsync, and the acks one stage after another: at 1024 a drain was window-bound with
 * both daemons half idle; 2048 drains it 1.4-1.6x faster (BENCHMARKS.md, B10). Sends answered on
 * delivery (B1) never have this many in flight.
 */
export const SEND_WINDOW = 2048
/**
 * ... and at most this much text in flight, so a slow peer of long messages holds 2048 x 64 KiB
 * nowhere. Text is counted as the strings hold it (UTF-16 code units), not as UTF-8 bytes.
 */
export const SEND_WINDOW_BYTES = 2 * 1024 * 1024

export interface OutboxLink {
  readonly remoteKey: string
  readonly closed: boolean
  send(frame: { t: 'msg'; id: string; text: string; at: number }): void
}

/** Sending state of one link: it lives and dies with the link (the peer-link actor owns which link is current). */
interface Session {
  lastSentSeq: number
  /** Each message sent and not yet acknowledged, by id: its row, and its text length. */
  inFlight: Map<string, { seq: number; size: number }>
  inFlightBytes: number
  /** When the in-flight messages last made progress (an ack, or the first send into an empty window). */
  lastProgressAt: number
  /**
   * The peer's enqueue count when a query last found nothing more queued after lastSentSeq
   * (undefined: there may be more). While no message was enqueued since, a pump needs no query:
   * a burst of sends committed in one batch costs one query, not one each, and acks none.
   */
  exhaustedAt: number | undefined
}

/** A `send` (or waitFor) waiting to hear what became of its message, at most until its deadline. */
interface Waiter extends Deadline {
  peer: string
  id: string
  waitMs: number
  tell: (status: DeliveryStatus) => void
}

type NewMessage = Omit<OutgoingRow, 'seq' | 'storedAt'>

/** A row of this turn's group, and who hears when it is committed and when it is on disk. */
interface StagedRow {
  row: OutgoingRow
  committed(outcome: Outcome<number>): void
  durable(outcome: Outcome<number>): void
  /** Sends the peer's new rows (`send`'s rows only); called once per peer of a group, after all its rows are counted. */
  readonly wake?: () => void
  /** Hears that `wake` threw. */
  wakeFailed?(error: unknown): void
}

/** What `send` waits for: its row committed and on disk, and the peer's answer or the wait's end. */
export interface SendOutcome {
  seq: number
  status: DeliveryStatus
  storedBy: number
}

/**
 * One `send` in the outbox: its staged row, its waiter and the settling of its promise in one
 * object whose methods the outbox calls. Closures over a shared context did the same and were
 * the sender's largest allocation per message (BENCHMARKS.md, B1).
 */
class PendingSend implements StagedRow, Waiter {
  due = 0
  done = false
  private storedBy = 0
  private status: DeliveryStatus | undefined = undefined
  private onDisk = false
  private failed = false

  constructor(
    readonly row: OutgoingRow,
    readonly waitMs: number,
    readonly wake: () => void,
    private readonly register: (waiter: Waiter) => void,
    private readonly resolve: (outcome: SendOutcome) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  get peer(): string {
    return this.row.peer
  }

  get id(): string {
    return this.row.id
  }

  committed(outcome: Outcome<number>): void {
    if (!outcome.ok) {
      this.fail(outcome.error)
      return
    }
    this.storedBy = Date.now()
    if (this.waitMs > 0) this.register(this)
    else this.status = 'queued'
  }

  durable(outcome: Outcome<number>): void {
    if (!outcome.ok) {
      this.fail(outcome.error)
      return
    }
    this.onDisk = true
    this.finish()
  }

  /** The peer's answer, the link's end, or the wait's. */
  tell(status: DeliveryStatus): void {
    this.status = status
    this.finish()
  }

  wakeFailed(error: unknown): void {
    this.fail(error)
  }

  private fail(error: unknown): void {
    if (this.failed) return
    this.failed = true
    this.reject(error)
  }

  private finish(): void {
    if (!this.failed && this.onDisk && this.status !== undefined)
      this.resolve({ seq: this.row.seq, status: this.status, storedBy: this.storedBy })
  }
}

/**
 * Rows enqueued for a peer since `owner`, the session of its link, last found the queue empty, less
 * those it has taken since: its next pumps send them from here instead of reading back from SQLite
 * what was just written, also when a full window made it take only part of them.
 */
interface Tail {
  owner: Session
  rows: OutgoingRow[]
  /** Their text's length. */
  chars: number
}

/**
 * Past either of these a tail is dropped (the link is not keeping up): pumps read from SQLite
 * again, no further than the window lets out. Rows alone would let a tail of long messages hold
 * 2048 x 64 KiB.
 */
const TAIL_MAX_ROWS = SEND_WINDOW
const TAIL_MAX_CHARS = SEND_WINDOW_BYTES

function textLength(rows: readonly OutgoingRow[]): number {
  let chars = 0
  for (const row of rows) chars += row.text.length
  return chars
}

export class Outbox {
  private readonly sessions = new WeakMap<OutboxLink, Session>()
  private readonly waiters = new Map<string, Map<string, Waiter>>()
  /** Their timeouts: one timer per duration, not one per message. */
  private readonly deadlines = new DeadlineSweep<Waiter>((waiter) => this.release(waiter, 'queued'))
  /** Messages enqueued per peer since the daemon started: tells a session whether to query again. */
  private readonly enqueued = new Map<string, number>()
  private readonly tails = new Map<string, Tail>()
  /**
   * Rows staged in this turn, inserted together. Once committed, each row is counted and kept in
   * its peer's tail before its `committed` hears of it.
   */
  private readonly rowGroups = new TurnGroup<StagedRow>((rows, close) =>
    this.batcher.stage(
      () => {
        close()
        return this.messages.enqueueMany(rows.map((staged) => staged.row))
      },
      (outcome) => {
        close()
        this.groupCommitted(rows, outcome)
      },
      (outcome) => {
        for (const staged of rows) staged.durable(outcome.ok ? { ok: true, value: staged.row.seq } : outcome)
      },
    ),
  )
  /** Delivered marks of this turn, in one UPDATE. Not recorded: the message goes out again and is acked again. */
  private readonly deliveredMarks = new TurnGroup<number>((seqs, close) =>
    this.batcher.record(() => {
      close()
      return this.messages.markDeliveredMany(seqs)
    }, close),
  )

  constructor(
    private readonly messages: MessageStore,
    private readonly batcher: WriteBatcher,
  ) {}

  /**
   * Stores a message for `peer`; resolves once it is committed, so it may go out at once, with
   * `durable`, which resolves once it is on disk: only then may the sender be told it is stored.
   * Sending before our own fsync loses nothing: a power cut in between takes back only a message
   * the sender was never answered for. `send` uses enqueueAndWait; this is for callers that wait
   * on no delivery (the mailbox's and the outbox's tests).
   */
  enqueue(message: NewMessage): Promise<{ seq: number; durable: Promise<unknown> }> {
    return new Promise((resolve, reject) => {
      let tellDurable!: (outcome: Outcome<number>) => void
      const durable = new Promise((res, rej) => {
        tellDurable = (outcome) => (outcome.ok ? res(outcome.value) : rej(outcome.error))
      })
      // When the commit fails, the caller hears it from the first promise; `durable` fails the same way, unheard.
      durable.catch(() => {})
      this.rowGroups.add({
        row: this.newRow(message),
        committed: (outcome) => (outcome.ok ? resolve({ seq: outcome.value, durable }) : reject(outcome.error)),
        durable: tellDurable,
      })
    })
  }

  /**
   * `send`'s whole wait in one promise: stores the message, calls `wake` once it is committed (the
   * link may send it now), and resolves once it is on disk and the peer acked or refused it, its
   * link went down, or `waitMs` passed ("queued"); rejects if it could not be stored.
   */
  enqueueAndWait(message: NewMessage, waitMs: number, wake: () => void): Promise<SendOutcome> {
    return new Promise((resolve, reject) =>
      this.rowGroups.add(new PendingSend(this.newRow(message), waitMs, wake, this.register, resolve, reject)),
    )
  }

  /** A row to stage with the others of this turn (see rowGroups). */
  private newRow(message: NewMessage): OutgoingRow {
    // Named, not spread: `{ ...message, seq, storedAt }` leaves V8's fast path for a spread
    // followed by more properties, about 2 us per message, an eighth of the sender's CPU in B1.
    const { id, peer, peerKey, text, at } = message
    return { id, peer, peerKey, text, at, seq: 0, storedAt: Date.now() }
  }

  private groupCommitted(rows: readonly StagedRow[], outcome: Outcome<number[]>): void {
    if (!outcome.ok) {
      for (const staged of rows) staged.committed(outcome)
      return
    }
    // The last row of each peer that asks for a wake: one pump per peer sends the whole group,
    // where a pump per row took one row each time.
    const wakes = new Map<string, StagedRow>()
    for (const [i, staged] of rows.entries()) {
      const { row } = staged
      row.seq = outcome.value[i] as number
      // Counted and kept in the tail in one step: the tail's order is the count's.
      this.enqueued.set(row.peer, (this.enqueued.get(row.peer) ?? 0) + 1)
      const tail = this.tails.get(row.peer)
      if (tail && (tail.rows.length >= TAIL_MAX_ROWS || tail.chars >= TAIL_MAX_CHARS)) this.tails.delete(row.peer)
      else if (tail) {
        tail.rows.push(row)
        tail.chars += row.text.length
      }
      staged.committed({ ok: true, value: row.seq })
      if (staged.wake) wakes.set(row.peer, staged)
    }
    for (const [peer, last] of wakes) this.wakePeer(peer, last, rows)
  }

  /** Runs a wake; if it throws, every send of this group to that peer hears it (its row stays queued). */
  private wakePeer(peer: string, last: StagedRow, rows: readonly StagedRow[]): void {
    try {
      last.wake?.()
    } catch (error) {
      for (const staged of rows) if (staged.row.peer === peer) staged.wakeFailed?.(error)
    }
  }

  /** How much text the peer's tail holds now (tests: it stays within a window's worth). */
  heldChars(peer: string): number {
    return this.tails.get(peer)?.chars ?? 0
  }

  hasQueued(peer: string): boolean {
    return this.messages.queuedFor(peer, 0, 1).length > 0
  }

  /** Resolves with the message's status once acked, refused, or the link to `peer` goes down; else after `timeoutMs`. */
  waitFor(peer: string, id: string, timeoutMs: number): Promise<DeliveryStatus> {
    return new Promise((tell) => this.addWaiter({ peer, id, waitMs: timeoutMs, tell, due: 0, done: false }))
  }

  /** Made once: every PendingSend registers its waiter through it. */
  private readonly register = (waiter: Waiter) => this.addWaiter(waiter)

  private addWaiter(waiter: Waiter): void {
    let perPeer = this.waiters.get(waiter.peer)
    if (!perPeer) {
      perPeer = new Map()
      this.waiters.set(waiter.peer, perPeer)
    }
    perPeer.set(waiter.id, waiter)
    this.deadlines.add(waiter, waiter.waitMs)
  }

  /** Tells the waiter of `id`, if any, what became of its message. */
  private tellWaiter(peer: string, id: string, status: DeliveryStatus): void {
    const waiter = this.waiters.get(peer)?.get(id)
    if (!waiter) return
    this.deadlines.finish(waiter, waiter.waitMs)
    this.release(waiter, status)
  }

  private release(waiter: Waiter, status: DeliveryStatus): void {
    const perPeer = this.waiters.get(waiter.peer)
    if (perPeer?.get(waiter.id) === waiter) {
      perPeer.delete(waiter.id)
      if (perPeer.size === 0) this.waiters.delete(waiter.peer)
    }
    waiter.tell(status)
  }

  /** A new link to `peer`: everything still queued goes out on it, from the start. */
  linkUp(peer: string, link: OutboxLink): void {
    this.sessions.set(link, { lastSentSeq: 0, inFlight: new Map(), inFlightBytes: 0, lastProgressAt: Date.now(), exhaustedAt: undefined })
    this.pump(peer, link)
  }

  /** The link is down or could not be made: whoever waits hears "queued" now, not at their timeout. */
  linkDown(peer: string): void {
    this.tails.delete(peer)
    this.settleAll(peer, 'queued')
  }

  /** Sends what waits for `peer` on `link`, the peer's current link, as far as the window allows. */
  pump(peer: string, link: OutboxLink): void {
    const session = this.sessions.get(link)
    if (!session || link.closed) return
    const enqueued = this.enqueued.get(peer) ?? 0
    while (session.exhaustedAt !== enqueued && session.inFlight.size < SEND_WINDOW && session.inFlightBytes < SEND_WINDOW_BYTES) {
      const limit = SEND_WINDOW - session.inFlight.size
      const room = SEND_WINDOW_BYTES - session.inFlightBytes
      const tail = this.takeTail(peer, session, limit)
      const rows = tail ?? this.messages.queuedFor(peer, session.lastSentSeq, limit, room)
      // Fewer rows than asked for is the end of the queue, unless the byte window cut the read short.
      if (rows.length < limit && (tail !== undefined || textLength(rows) < room)) {
        session.exhaustedAt = enqueued
        this.tails.set(peer, { owner: session, rows: [], chars: 0 })
      }
      if (rows.length === 0) return
      for (const row of rows) {
        if (session.inFlightBytes >= SEND_WINDOW_BYTES) {
          // The rest of these rows go out as acks free the window, read again from SQLite: they
          // are no longer in the tail.
          session.exhaustedAt = undefined
          if (this.tails.get(peer)?.owner === session) this.tails.delete(peer)
          return
        }
        if (session.inFlight.size === 0) session.lastProgressAt = Date.now()
        link.send({ t: 'msg', id: row.id, text: row.text, at: row.at })
        session.lastSentSeq = row.seq
        session.inFlight.set(row.id, { seq: row.seq, size: row.text.length })
        session.inFlightBytes += row.text.length
      }
    }
  }

  /**
   * What `session` has not sent of the peer's tail, oldest first, up to `limit`; undefined when
   * the tail is not this session's (it was not caught up when the tail began): then SQLite says.
   */
  private takeTail(peer: string, session: Session, limit: number): OutgoingRow[] | undefined {
    const tail = this.tails.get(peer)
    if (!tail || tail.owner !== session) return undefined
    let at = 0
    // A pump between a batch's commit and its count may have read some of these rows already.
    while (at < tail.rows.length && (tail.rows[at] as OutgoingRow).seq <= session.lastSentSeq) at++
    const taken = tail.rows.slice(at, at + limit)
    const end = at + taken.length
    for (let i = 0; i < end; i++) tail.chars -= (tail.rows[i] as OutgoingRow).text.length
    tail.rows = tail.rows.slice(end)
    return taken
  }

  acked(peer: string, link: OutboxLink, id: string): void {
    this.settle(peer, link, id, 'delivered', (seq) => this.deliveredMarks.add(seq))
  }

  /**
   * The peer acknowledged `id` by another way than a link of ours: a sealed ack in our mailbox.
   * Any session that still counts it in flight lets it go when the link's own ack comes, or dies.
   */
  ackedByMailbox(peer: string, id: string): void {
    // Not recorded: it stays queued, goes out again, and the peer acknowledges it again.
    this.batcher.record(() => this.messages.markDepositedDelivered(peer, id))
    this.tellWaiter(peer, id, 'delivered')
  }

  refused(peer: string, link: OutboxLink, id: string, reason: string): void {
    this.settle(peer, link, id, 'failed', (seq) => this.batcher.record(() => this.messages.markFailed(seq, reason)))
  }

  /**
   * Messages have waited for an ack longer than `maxWaitMs` on a link that may still answer pings
   * (a peer that dropped a frame it could not read): the link should be remade, which sends them again.
   */
  isStalled(link: OutboxLink, maxWaitMs: number, now = Date.now()): boolean {
    const session = this.sessions.get(link)
    return session !== undefined && session.inFlight.size > 0 && now - session.lastProgressAt > maxWaitMs
  }

  /** Queued messages older than the outbox lifetime become failed. */
  expire(storedBefore: number): number {
    const expired = this.messages.expire(storedBefore)
    for (const { peer, id } of expired) this.tellWaiter(peer, id, 'failed')
    return expired.length
  }

  /**
   * An answer from the peer about a message sent on `link`. One about a message this link did not
   * carry (or already answered) changes nothing: a peer can only settle what it was sent.
   */
  private settle(peer: string, link: OutboxLink, id: string, status: DeliveryStatus, mark: (seq: number) => void): void {
    const session = this.sessions.get(link)
    const sent = session?.inFlight.get(id)
    if (!session || !sent) return
    session.inFlight.delete(id)
    session.inFlightBytes -= sent.size
    session.lastProgressAt = Date.now()
    // The peer has spoken: the sender may hear it now. The status write is committed in this same
    // turn's batch, which runs before the answer is flushed to the control socket.
    // Not recorded (a failed commit or a power cut): the message stays queued, goes out again on
    // the next link, and is acked again.
    mark(sent.seq)
    this.tellWaiter(peer, id, status)
    // Refill once both windows are half empty: one query per half window, not one per ack.
    if (session.inFlight.size <= SEND_WINDOW / 2 && session.inFlightBytes <= SEND_WINDOW_BYTES / 2) this.pump(peer, link)
  }

  private settleAll(peer: string, status: DeliveryStatus): void {
    const perPeer = this.waiters.get(peer)
    if (!perPeer) return
    for (const id of [...perPeer.keys()]) this.tellWaiter(peer, id, status)
  }
}
