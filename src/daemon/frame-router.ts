/**
 * Where a peer's decoded frames go: messages to the inbox (within the link's inbound rate),
 * acks and nacks to the outbox, pings answered at once. Runs per frame, so it stays a plain
 * function call: no actor event on this path.
 *
 * What a peer makes us log is bounded: warnings about one link are rate-limited (then summed up
 * in one line), and a link that keeps sending invalid frames is closed. Each warning was a
 * synchronous write to daemon.log, so any registered user could fill the disk.
 */
import type { Logger } from 'pino'
import type { DecodedFrame } from '../protocol/peer-frames.js'
import { type Bucket, msUntilToken, type RateLimitConfig, takeToken } from '../protocol/token-bucket.js'
import type { Inbox } from './inbox.js'
import type { Outbox } from './outbox.js'
import type { PeerConnection } from './peer-connection.js'

export interface FrameRouterOptions {
  inbox: Pick<Inbox, 'receive'>
  outbox: Pick<Outbox, 'acked' | 'refused'>
  log: Logger
  /** Incoming messages per link; over it, reading pauses (TCP pushes back on the sender, nothing is lost). */
  peerRate: RateLimitConfig | null
  /** Warnings about one link per window (default 5 a minute); over it they are counted, not written. */
  warnings?: { perWindow: number; windowMs: number }
  /** A link that sends more invalid frames than this is closed (default 100). */
  maxInvalidFrames?: number
}

/** What one link has cost us in warnings. */
interface LinkRecord {
  invalidFrames: number
  windowStart: number
  warned: number
  suppressed: number
}

const DEFAULT_WARNINGS = { perWindow: 5, windowMs: 60_000 }
const DEFAULT_MAX_INVALID_FRAMES = 100

/** What the router needs of a connection. */
export type RoutedConnection = Pick<PeerConnection, 'remoteKey' | 'closed' | 'send' | 'close' | 'pauseFor'>

export class FrameRouter {
  /** Inbound message budget per connection; gone with the connection. */
  private readonly buckets = new WeakMap<RoutedConnection, Bucket>()
  /** Warnings and invalid frames per connection; gone with the connection. */
  private readonly records = new WeakMap<RoutedConnection, LinkRecord>()

  constructor(private readonly options: FrameRouterOptions) {}

  route(peerId: string, conn: RoutedConnection, decoded: DecodedFrame): void {
    const { inbox, outbox } = this.options
    if (!decoded.ok) {
      this.refuse(peerId, conn, decoded)
      return
    }
    const frame = decoded.frame
    switch (frame.t) {
      case 'msg':
        this.throttle(conn)
        inbox.receive(peerId, conn, frame)
        break
      case 'ack':
        outbox.acked(peerId, conn, frame.id)
        break
      case 'nack':
        this.warn(peerId, conn, { id: frame.id, code: frame.code }, 'peer refused a message')
        outbox.refused(peerId, conn, frame.id, `${frame.code}: ${frame.message}`)
        break
      case 'ping':
        conn.send({ t: 'pong' })
        break
      case 'pong':
        break
      case 'hello':
        this.warn(peerId, conn, {}, 'ignored a second hello')
        break
    }
  }

  private refuse(peerId: string, conn: RoutedConnection, decoded: Extract<DecodedFrame, { ok: false }>): void {
    const record = this.recordOf(conn)
    record.invalidFrames++
    const over = record.invalidFrames - (this.options.maxInvalidFrames ?? DEFAULT_MAX_INVALID_FRAMES)
    if (over > 1) return // closing already; frames of the same read may still come
    if (over === 1) {
      this.options.log.warn(
        { peer: peerId, invalidFrames: record.invalidFrames, suppressed: record.suppressed },
        'closing the link: too many invalid frames',
      )
      record.suppressed = 0
      conn.close('too many invalid frames')
      return
    }
    this.warn(peerId, conn, { code: decoded.code, reason: decoded.message }, 'refused a frame')
    if (decoded.id) conn.send({ t: 'nack', id: decoded.id, code: decoded.code, message: decoded.message.slice(0, 512) })
  }

  /** A warning about a link, unless that link has had its share of this window. */
  private warn(peerId: string, conn: RoutedConnection, fields: object, message: string): void {
    const { log } = this.options
    const { perWindow, windowMs } = this.options.warnings ?? DEFAULT_WARNINGS
    const record = this.recordOf(conn)
    const now = Date.now()
    if (now - record.windowStart >= windowMs) {
      if (record.suppressed > 0) log.warn({ peer: peerId, suppressed: record.suppressed }, 'more warnings about this peer were suppressed')
      record.windowStart = now
      record.warned = 0
      record.suppressed = 0
    }
    if (record.warned >= perWindow) {
      record.suppressed++
      return
    }
    record.warned++
    log.warn({ peer: peerId, ...fields }, message)
  }

  private recordOf(conn: RoutedConnection): LinkRecord {
    let record = this.records.get(conn)
    if (!record) {
      record = { invalidFrames: 0, windowStart: Date.now(), warned: 0, suppressed: 0 }
      this.records.set(conn, record)
    }
    return record
  }

  private throttle(conn: RoutedConnection): void {
    const rate = this.options.peerRate
    if (!rate) return
    const { allowed, bucket } = takeToken(this.buckets.get(conn), Date.now(), rate)
    this.buckets.set(conn, bucket)
    if (!allowed) conn.pauseFor(msUntilToken(bucket, rate))
  }
}
