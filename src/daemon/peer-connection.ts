/**
 * One encrypted, authenticated connection to a peer: the Noise handshake (secret-stream, with our
 * Ed25519 identity as static key), the hello exchange, line framing and batched writes. Frames are
 * decoded here; the peer-link actor and the message pipeline only ever see whole frames.
 */
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import SecretStream from '@hyperswarm/secret-stream'
import type { Identity } from '../protocol/identity.js'
import { MAX_PEER_FRAME_BYTES } from '../protocol/limits.js'
import { type DecodedFrame, decodePeerFrame, encodePeerFrame, PEER_PROTOCOL_VERSION, type PeerFrame } from '../protocol/peer-frames.js'
import { LineSplitter } from './line-splitter.js'

/** How long a closing link may take to deliver its last frames. */
const CLOSE_GRACE_MS = 2000
/** Writes above this go out at once instead of waiting for the end of the turn. */
const FLUSH_AT_BYTES = 256 * 1024

export interface PeerConnectionEvents {
  frame: [DecodedFrame]
  close: [reason: string]
}

export class PeerConnection extends EventEmitter<PeerConnectionEvents> {
  readonly remoteKey: string
  /** Key of the side that dialed: the tie-break when both sides dial at once keeps the smaller. */
  readonly initiatorKey: string
  lastReceivedAt = Date.now()
  closed = false
  private pending = ''
  private started = false
  private rest: string[]
  private paused = false
  private flushScheduled = false
  private readonly stream: SecretStream
  private readonly splitter: LineSplitter

  constructor(
    established: HandshakeResult,
    readonly remoteUserId: string,
    readonly remoteAddress: { host: string; port: number },
  ) {
    super()
    const stream = established.stream
    this.stream = stream
    this.splitter = established.splitter
    this.remoteKey = (stream.remotePublicKey as Buffer).toString('hex')
    this.initiatorKey = stream.isInitiator ? (stream.publicKey as Buffer).toString('hex') : this.remoteKey
    this.rest = established.rest
  }

  /**
   * Starts reading. Nothing is read before this: the owner wires its 'frame' and 'close' listeners
   * first, however many turns of the event loop that takes (the stream may deliver data as soon
   * as a 'data' listener exists).
   */
  start(): void {
    if (this.started) return
    this.started = true
    const stream = this.stream
    stream.on('data', (chunk: Buffer) => this.onData(chunk))
    stream.on('error', () => this.close('connection error'))
    stream.on('close', () => this.close('connection closed'))
    // Frames that arrived in the same read as the hello; the stream was paused after it.
    const rest = this.rest
    this.rest = []
    if (rest.length > 0) setImmediate(() => this.deliver(rest))
    setImmediate(() => stream.resume())
    if (stream.destroyed) setImmediate(() => this.close('connection closed'))
  }

  get initiatedByMe(): boolean {
    return this.stream.isInitiator
  }

  send(frame: PeerFrame): void {
    if (this.closed) return
    this.pending += encodePeerFrame(frame)
    if (this.pending.length >= FLUSH_AT_BYTES) this.flush()
    else if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(() => this.flush())
    }
  }

  ping(): void {
    this.send({ t: 'ping' })
  }

  /** Stops reading for a while: TCP flow control then slows the sender down, and nothing is lost. */
  pauseFor(ms: number): void {
    if (this.paused) return
    this.paused = true
    this.stream.pause()
    setTimeout(() => {
      this.paused = false
      if (!this.closed) this.stream.resume()
    }, ms).unref()
  }

  close(reason: string): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    // End rather than destroy, so that frames written last (an ack, a nack) still reach the peer;
    // a peer that does not close its side in time is cut off.
    this.stream.end()
    setTimeout(() => this.stream.destroy(), CLOSE_GRACE_MS).unref()
    this.emit('close', reason)
  }

  private flush(): void {
    this.flushScheduled = false
    if (this.pending.length === 0 || this.closed) return
    const data = this.pending
    this.pending = ''
    this.stream.write(Buffer.from(data, 'utf8'))
  }

  private onData(chunk: Buffer): void {
    this.lastReceivedAt = Date.now()
    const lines = this.splitter.push(chunk)
    if (lines === 'overflow') {
      this.close(`frame over ${MAX_PEER_FRAME_BYTES} bytes`)
      return
    }
    this.deliver(lines)
  }

  private deliver(lines: string[]): void {
    for (const line of lines) {
      if (this.closed) return
      if (line.length > 0) this.emit('frame', decodePeerFrame(line))
    }
  }
}

export interface HandshakeOptions {
  socket: Socket
  initiator: boolean
  identity: Identity
  myUserId: string
  /** When dialing: the key the peer must have. */
  expectedKey?: string
  timeoutMs: number
}

export interface HandshakeResult {
  stream: SecretStream
  hello: { userId: string; v: number }
  remoteKey: string
  /** Frames that followed the hello in the same read, and the splitter holding any partial line. */
  rest: string[]
  splitter: LineSplitter
}

/**
 * Runs the Noise handshake and the hello exchange. Rejects on timeout, a wrong key, or anything
 * but a valid hello first; the socket is destroyed in every failure.
 */
export function handshake(options: HandshakeOptions): Promise<HandshakeResult> {
  const { socket, initiator, identity } = options
  const stream = new SecretStream(initiator, socket, {
    keyPair: SecretStream.keyPair(identity.seed),
    ...(options.expectedKey ? { remotePublicKey: Buffer.from(options.expectedKey, 'hex') } : {}),
  })
  return new Promise<HandshakeResult>((resolve, reject) => {
    const splitter = new LineSplitter(MAX_PEER_FRAME_BYTES)
    const fail = (reason: string) => {
      clearTimeout(timer)
      stream.removeAllListeners('data')
      stream.destroy()
      socket.destroy()
      reject(new Error(reason))
    }
    const timer = setTimeout(() => fail('handshake timed out'), options.timeoutMs)
    stream.on('error', (error: Error) => fail(`handshake failed: ${error.message}`))
    stream.on('close', () => fail('connection closed during handshake'))
    stream.on('connect', () => {
      const remoteKey = (stream.remotePublicKey as Buffer).toString('hex')
      if (options.expectedKey && remoteKey !== options.expectedKey) return fail('peer presented an unexpected key')
      stream.write(Buffer.from(encodePeerFrame({ t: 'hello', userId: options.myUserId, v: PEER_PROTOCOL_VERSION })))
    })
    stream.on('data', (chunk: Buffer) => {
      const lines = splitter.push(chunk)
      if (lines === 'overflow') return fail('hello frame too large')
      if (lines.length === 0) return
      const [first, ...rest] = lines
      const decoded = decodePeerFrame(first as string)
      if (!decoded.ok || decoded.frame.t !== 'hello') return fail('first frame was not a valid hello')
      clearTimeout(timer)
      // Hold further data until the connection is authorised and its owner listens.
      stream.pause()
      stream.removeAllListeners('data')
      stream.removeAllListeners('error')
      stream.removeAllListeners('close')
      // Authorising takes a discovery lookup; a reset meanwhile must not be an uncaught 'error'.
      // The owner sees it as `stream.destroyed` (PeerConnection closes at once).
      stream.on('error', () => {})
      resolve({ stream, hello: decoded.frame, remoteKey: (stream.remotePublicKey as Buffer).toString('hex'), rest, splitter })
    })
  })
}
