/**
 * One encrypted, authenticated connection to a peer: the Noise handshake (secret-stream, with our
 * Ed25519 identity as static key), the hello exchange, line framing and batched writes. Frames are
 * decoded here; the peer-link actor and the message pipeline only ever see whole frames.
 *
 * Bounded for hostile peers: before its hello a peer may send MAX_PREAUTH_BYTES (counted on the
 * socket, Noise length prefixes included) and a hello of MAX_HELLO_BYTES, within the handshake
 * timeout; after it, each Noise message stays under MAX_NOISE_MESSAGE_BYTES, and what we hold
 * unsent for a peer that does not read is bounded (we stop reading from it, then close the link).
 */
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import type SecretStream from '@hyperswarm/secret-stream'
import type { Identity } from '../protocol/identity.js'
import {
  LINK_BACKLOG_HIGH_WATER_BYTES,
  LINK_BACKLOG_MAX_BYTES,
  MAX_HELLO_BYTES,
  MAX_NOISE_MESSAGE_BYTES,
  MAX_PEER_FRAME_BYTES,
  MAX_PREAUTH_BYTES,
  NOISE_MESSAGE_OVERHEAD_BYTES,
} from '../protocol/limits.js'
import {
  type DecodedFrame,
  decodePeerFrame,
  encodePeerFrame,
  PEER_PROTOCOL_VERSION,
  refuseInvalidUtf8,
} from '../protocol/peer-frame-codec.js'
import type { PeerFrame } from '../protocol/peer-frames.js'
import { type Line, LineSplitter } from './line-splitter.js'
import { loadSecretStream } from './secret-stream.js'

/** How long a closing link may take to deliver its last frames. */
const CLOSE_GRACE_MS = 2000
/** Writes above this go out at once instead of waiting for the end of the turn. */
const FLUSH_AT_BYTES = 256 * 1024

/** How a link runs: straight between the daemons, or spliced through the relay (SPEC section 9). */
export type LinkKind = 'direct' | 'relayed'

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
  /** Frames not yet handed to the stream: they wait for the end of the turn, or for the stream to drain. */
  private pending = ''
  private started = false
  private rest: Line[]
  /** Why reading is paused: the inbound rate, or a peer that does not read what we send. */
  private pausedForRate = false
  private pausedForBacklog = false
  private waitingForDrain = false
  private flushScheduled = false
  private readonly stream: SecretStream
  private readonly splitter: LineSplitter
  private readonly cutOff: { reason?: string }

  constructor(
    established: HandshakeResult,
    readonly remoteUserId: string,
    readonly remoteAddress: { host: string; port: number },
    readonly link: LinkKind = 'direct',
  ) {
    super()
    const stream = established.stream
    this.stream = stream
    this.splitter = established.splitter
    this.remoteKey = (stream.remotePublicKey as Buffer).toString('hex')
    this.initiatorKey = stream.isInitiator ? (stream.publicKey as Buffer).toString('hex') : this.remoteKey
    this.rest = established.rest
    this.cutOff = established.cutOff
    stream.on('drain', () => this.onDrain())
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
    const cutOff = this.cutOff
    stream.on('error', (error: Error) => this.close(cutOff.reason ?? `connection error: ${error.message}`))
    stream.on('close', () => this.close(cutOff.reason ?? 'connection closed'))
    // Frames that arrived in the same read as the hello; the stream was paused after it.
    const rest = this.rest
    this.rest = []
    if (rest.length > 0) setImmediate(() => this.deliver(rest))
    setImmediate(() => this.updateReading())
    if (stream.destroyed) setImmediate(() => this.close(cutOff.reason ?? 'connection closed'))
  }

  get initiatedByMe(): boolean {
    return this.stream.isInitiator
  }

  send(frame: PeerFrame): void {
    if (this.closed) return
    this.pending += encodePeerFrame(frame)
    if (this.waitingForDrain) this.checkBacklog()
    else if (this.pending.length >= FLUSH_AT_BYTES) this.flush()
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
    if (this.pausedForRate) return
    this.pausedForRate = true
    this.updateReading()
    setTimeout(() => {
      this.pausedForRate = false
      this.updateReading()
    }, ms).unref()
  }

  close(reason: string): void {
    if (this.closed) return
    // The last frames go out even over the high-water mark (a peer that does not read has none left).
    this.waitingForDrain = false
    this.flush()
    this.closed = true
    // End rather than destroy, so that frames written last (an ack, a nack) still reach the peer;
    // a peer that does not close its side in time is cut off.
    this.stream.end()
    setTimeout(() => this.stream.destroy(), CLOSE_GRACE_MS).unref()
    this.emit('close', reason)
  }

  private updateReading(): void {
    if (this.closed || !this.started) return
    if (this.pausedForRate || this.pausedForBacklog) this.stream.pause()
    else this.stream.resume()
  }

  /**
   * Writes what is pending, unless the stream is still over its high-water mark: then frames
   * wait in `pending` for 'drain', where `checkBacklog` can see how much a peer leaves unread.
   */
  private flush(): void {
    this.flushScheduled = false
    if (this.pending.length === 0 || this.closed || this.waitingForDrain) return
    const data = Buffer.from(this.pending, 'utf8')
    this.pending = ''
    // One write is one Noise message; the peer refuses any over MAX_NOISE_MESSAGE_BYTES.
    let ok = true
    for (let at = 0; at < data.length; at += MAX_NOISE_MESSAGE_BYTES)
      ok = this.stream.write(data.subarray(at, at + MAX_NOISE_MESSAGE_BYTES))
    if (!ok) this.waitingForDrain = true
  }

  private onDrain(): void {
    this.waitingForDrain = false
    this.flush()
    if (this.pausedForBacklog && !this.waitingForDrain) {
      this.pausedForBacklog = false
      this.updateReading()
    }
  }

  /** A peer that does not read: stop reading what it sends (it is mostly what we answer), then give up on it. */
  private checkBacklog(): void {
    // Length in UTF-16 units: a lower bound of the bytes, exact for the ASCII of most frames.
    const unsent = this.pending.length
    if (unsent > LINK_BACKLOG_MAX_BYTES) {
      this.pending = ''
      this.close('peer does not read')
    } else if (unsent > LINK_BACKLOG_HIGH_WATER_BYTES && !this.pausedForBacklog) {
      this.pausedForBacklog = true
      this.updateReading()
    }
  }

  private onData(chunk: Buffer): void {
    this.lastReceivedAt = Date.now()
    const lines = this.splitter.pushLines(chunk)
    if (lines === 'overflow') {
      this.close(`frame over ${MAX_PEER_FRAME_BYTES} bytes`)
      return
    }
    this.deliver(lines)
  }

  private deliver(lines: Line[]): void {
    for (const line of lines) {
      if (this.closed) return
      if (line.length > 0) this.emit('frame', decodeLine(line))
    }
  }
}

function decodeLine(line: Line): DecodedFrame {
  return typeof line === 'string' ? decodePeerFrame(line) : refuseInvalidUtf8(line)
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
  rest: Line[]
  splitter: LineSplitter
  /** Set when the input meter cut the peer off after its hello: the reason the link closes. */
  cutOff: { reason?: string }
}

/**
 * Runs the Noise handshake and the hello exchange. Rejects on timeout (which covers the hello),
 * a wrong key, a peer over its pre-authentication budget, or anything but a valid hello of at
 * most MAX_HELLO_BYTES first; the socket is destroyed in every failure.
 */
export function handshake(options: HandshakeOptions): Promise<HandshakeResult> {
  const { socket, initiator, identity } = options
  const Noise = loadSecretStream()
  const stream = new Noise(initiator, socket, {
    keyPair: Noise.keyPair(identity.seed),
    ...(options.expectedKey ? { remotePublicKey: Buffer.from(options.expectedKey, 'hex') } : {}),
  })
  return new Promise<HandshakeResult>((resolve, reject) => {
    const splitter = new LineSplitter(MAX_PEER_FRAME_BYTES)
    const budget = new NoiseInputMeter(MAX_PREAUTH_BYTES, MAX_NOISE_MESSAGE_BYTES + NOISE_MESSAGE_OVERHEAD_BYTES)
    let helloReceived = false
    const cutOff: { reason?: string } = {}
    // First in line, so that what a peer sends is counted as it arrives; it stays for the link's
    // lifetime, where it only caps each message.
    const meter = (chunk: Buffer) => {
      const verdict = budget.take(chunk)
      if (verdict === 'ok') return
      const tooLarge = `peer announced a Noise message over ${MAX_NOISE_MESSAGE_BYTES} bytes`
      // The same read may hold the end of an honest hello and the first frames after it (a peer
      // sends at once), so the verdict waits until the library has read the chunk: bytes past the
      // budget are fine after a hello, a message over the cap never is. What the library
      // allocates meanwhile for an announced message stays untouched and dies with the stream.
      setImmediate(() => {
        if (!helloReceived) fail(verdict === 'too_large' ? tooLarge : `peer sent over ${MAX_PREAUTH_BYTES} bytes before its hello`)
        else if (verdict === 'too_large') {
          cutOff.reason = tooLarge
          stream.destroy()
        }
      })
    }
    socket.prependListener('data', meter)
    const fail = (reason: string) => {
      clearTimeout(timer)
      socket.off('data', meter)
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
      const lines = splitter.pushLines(chunk)
      if (lines === 'overflow') return fail('hello frame too large')
      if (lines.length === 0) return splitter.pendingBytes > MAX_HELLO_BYTES ? fail('hello frame too large') : undefined
      const [first, ...rest] = lines as [Line, ...Line[]]
      if (typeof first !== 'string' || Buffer.byteLength(first) > MAX_HELLO_BYTES) return fail('first frame was not a valid hello')
      const decoded = decodePeerFrame(first)
      if (!decoded.ok || decoded.frame.t !== 'hello') return fail('first frame was not a valid hello')
      helloReceived = true
      clearTimeout(timer)
      budget.authenticated()
      // Hold further data until the connection is authorised and its owner listens.
      stream.pause()
      stream.removeAllListeners('data')
      stream.removeAllListeners('error')
      stream.removeAllListeners('close')
      // Authorising takes a discovery lookup; a reset meanwhile must not be an uncaught 'error'.
      // The owner sees it as `stream.destroyed` (PeerConnection closes at once).
      stream.on('error', () => {})
      resolve({ stream, hello: decoded.frame, remoteKey: (stream.remotePublicKey as Buffer).toString('hex'), rest, splitter, cutOff })
    })
  })
}

/**
 * What a peer sends, read off the raw socket: the bytes, and the length each Noise message
 * announces in its 3-byte little-endian prefix, so that a message announced past a limit is
 * refused before its first byte is buffered. Before the hello the total is capped as well.
 * O(messages), not O(bytes).
 */
export class NoiseInputMeter {
  /** Bytes seen so far. */
  private seen = 0
  /** Bytes of the current message's body still to come; while 0, a prefix is being read. */
  private bodyLeft = 0
  private prefix = 0
  private prefixBytes = 0

  constructor(
    private maxBytes: number,
    private readonly maxMessageBytes: number,
  ) {}

  /** The peer said who it is: from now on only each message is capped. */
  authenticated(): void {
    this.maxBytes = Number.POSITIVE_INFINITY
  }

  /**
   * Reads a chunk: 'too_large' when it announces a message over the cap, 'over_budget' when the
   * peer sent or announced more than the budget. The whole chunk is always read, so the meter
   * stays in step with the stream for the chunks after it.
   */
  take(chunk: Uint8Array): 'ok' | 'over_budget' | 'too_large' {
    let verdict: 'ok' | 'over_budget' | 'too_large' = 'ok'
    let at = 0
    while (at < chunk.length) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, chunk.length - at)
        this.bodyLeft -= n
        at += n
        continue
      }
      this.prefix += (chunk[at] as number) * 256 ** this.prefixBytes
      this.prefixBytes++
      at++
      if (this.prefixBytes === 3) {
        if (this.prefix > this.maxMessageBytes) verdict = 'too_large'
        else if (verdict === 'ok' && this.seen + at + this.prefix > this.maxBytes) verdict = 'over_budget'
        this.bodyLeft = this.prefix
        this.prefix = 0
        this.prefixBytes = 0
      }
    }
    this.seen += chunk.length
    return verdict === 'ok' && this.seen > this.maxBytes ? 'over_budget' : verdict
  }
}
