/**
 * Where a peer's decoded frames go: messages to the inbox (within the link's inbound rate),
 * acks and nacks to the outbox, pings answered at once. Runs per frame, so it stays a plain
 * function call: no actor event on this path.
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
}

/** What the router needs of a connection. */
export type RoutedConnection = Pick<PeerConnection, 'remoteKey' | 'closed' | 'send' | 'close' | 'pauseFor'>

export class FrameRouter {
  /** Inbound message budget per connection; gone with the connection. */
  private readonly buckets = new WeakMap<RoutedConnection, Bucket>()

  constructor(private readonly options: FrameRouterOptions) {}

  route(peerId: string, conn: RoutedConnection, decoded: DecodedFrame): void {
    const { inbox, outbox, log } = this.options
    if (!decoded.ok) {
      log.warn({ peer: peerId, code: decoded.code, reason: decoded.message }, 'refused a frame')
      if (decoded.id) conn.send({ t: 'nack', id: decoded.id, code: decoded.code, message: decoded.message.slice(0, 512) })
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
        log.warn({ peer: peerId, id: frame.id, code: frame.code }, 'peer refused a message')
        outbox.refused(peerId, conn, frame.id, `${frame.code}: ${frame.message}`)
        break
      case 'ping':
        conn.send({ t: 'pong' })
        break
      case 'pong':
        break
      case 'hello':
        log.warn({ peer: peerId }, 'ignored a second hello')
        break
    }
  }

  private throttle(conn: RoutedConnection): void {
    const rate = this.options.peerRate
    if (!rate) return
    const { allowed, bucket } = takeToken(this.buckets.get(conn), Date.now(), rate)
    this.buckets.set(conn, bucket)
    if (!allowed) conn.pauseFor(msUntilToken(bucket, rate))
  }
}
