/**
 * Making and accepting connections to peers: find the peer's address, open the socket, run the
 * Noise handshake and the hello, and check that the key on the other end may speak for the user
 * id it claims. What comes out is an authorised PeerConnection; what happens on it is the link
 * supervisor's and the frame router's business.
 */
import { connect, type Socket } from 'node:net'
import type { Logger } from 'pino'
import { isDirectlyReachable } from '../protocol/discovery-signing.js'
import type { Identity } from '../protocol/identity.js'
import { normalizeUserId } from '../protocol/user-id.js'
import { type DialAttempt, raceDials } from './dial-race.js'
import { type DiscoveryClient, DiscoveryError } from './discovery-client.js'
import { decidePeer, isKeyChange, type PeerAuthDecision } from './peer-auth.js'
import { handshake, type LinkKind, PeerConnection } from './peer-connection.js'
import type { PeerStore } from './stores/peer-store.js'

export interface PeerDialerOptions {
  identity: Identity
  userId: string
  discovery: DiscoveryClient
  peers: PeerStore
  isBlocked(peerId: string): boolean
  log: Logger
  timing: { connectTimeoutMs: number; handshakeTimeoutMs: number; relayDelayMs: number }
  /** Circuits through the relay (RelayDialer); without it, direct links only. */
  relay?: { open(peerId: string, signal: AbortSignal): Promise<Socket> }
}

type Address = { host: string; port: number; publicKey: string }

/** A dial refused before connecting because the peer's key conflicts with the pin. */
export class KeyConflictError extends Error {
  constructor(
    readonly peerId: string,
    readonly presentedKey: string,
    message: string,
  ) {
    super(message)
    this.name = 'KeyConflictError'
  }
}

export type AcceptResult =
  | { ok: true; peerId: string; conn: PeerConnection }
  | { ok: false; peerId: string; refusal: Exclude<PeerAuthDecision, { ok: true }>; presentedKey: string }

export class PeerDialer {
  constructor(private readonly options: PeerDialerOptions) {}

  /**
   * Connects to `peerId` where the discovery server (or, while it is down, our last sighting) says
   * it is: directly when it advertises an address, through the relay a little later (at once for a
   * peer that takes no direct connections); the first handshake to finish wins (SPEC section 9).
   */
  async dial(peerId: string, signal: AbortSignal): Promise<PeerConnection> {
    const { timing, relay } = this.options
    const address = await this.locate(peerId)
    this.checkKey(peerId, address, signal)
    const attempts: DialAttempt<PeerConnection>[] = []
    if (isDirectlyReachable(address)) attempts.push({ afterMs: 0, run: (s) => this.direct(peerId, address, s) })
    if (relay) {
      attempts.push({
        afterMs: attempts.length > 0 ? timing.relayDelayMs : 0,
        run: (s) => this.connectOver(peerId, address, 'relayed', () => relay.open(peerId, s), s),
      })
    }
    return raceDials(attempts, signal)
  }

  /** A direct link only: what a relayed link keeps trying in the background, to move over. */
  async dialDirect(peerId: string, signal: AbortSignal): Promise<PeerConnection> {
    const address = await this.locate(peerId)
    if (!isDirectlyReachable(address)) throw new Error(`${peerId} takes no direct connections`)
    this.checkKey(peerId, address, signal)
    return this.direct(peerId, address, signal)
  }

  /** Refuses, before any connection, a peer whose key conflicts with the pin. */
  private checkKey(peerId: string, address: Address, signal: AbortSignal): void {
    // Read the pin after the lookup: a `trust` made meanwhile must count.
    const pinned = this.options.peers.get(peerId)
    const decision = decidePeer({
      userId: peerId,
      remoteKey: address.publicKey,
      ...(pinned ? { pinnedKey: pinned.publicKey } : {}),
      boundKey: address.publicKey,
      blocked: false,
    })
    if (decision.ok) return
    if (!signal.aborted) this.options.log.error({ peer: peerId, code: decision.code }, `not dialing: ${decision.message}`)
    throw isKeyChange(decision.code) ? new KeyConflictError(peerId, address.publicKey, decision.message) : new Error(decision.message)
  }

  private direct(peerId: string, address: Address, signal: AbortSignal): Promise<PeerConnection> {
    const open = () => openSocket(address.host, address.port, this.options.timing.connectTimeoutMs, signal)
    return this.connectOver(peerId, address, 'direct', open, signal)
  }

  /** Handshake over a socket `open` gives, requiring the key the server binds to `peerId` (through the relay too). */
  private async connectOver(
    peerId: string,
    address: Address,
    link: LinkKind,
    open: () => Promise<Socket>,
    signal: AbortSignal,
  ): Promise<PeerConnection> {
    const { identity, userId, peers, timing } = this.options
    const socket = await open()
    const established = await handshake({
      socket,
      initiator: true,
      identity,
      myUserId: userId,
      expectedKey: address.publicKey,
      timeoutMs: timing.handshakeTimeoutMs,
    })
    if (normalizeUserId(established.hello.userId) !== peerId) {
      established.stream.destroy()
      throw new Error(`the peer at ${address.host}:${address.port} says it is ${established.hello.userId}, not ${peerId}`)
    }
    peers.pin(peerId, established.remoteKey)
    if (link === 'direct') peers.seen(peerId, address.host, address.port)
    const conn = new PeerConnection(established, peerId, address, link)
    if (signal.aborted) {
      conn.close('dial no longer wanted')
      throw new Error('dial aborted')
    }
    return conn
  }

  /** A socket accepted by the listener: handshake, then authorise the key it presented. */
  async accept(socket: Socket, link: LinkKind = 'direct'): Promise<AcceptResult> {
    const { identity, userId, log, timing } = this.options
    const remote = { host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 }
    const established = await handshake({ socket, initiator: false, identity, myUserId: userId, timeoutMs: timing.handshakeTimeoutMs })
    const peerId = normalizeUserId(established.hello.userId)
    log.info({ peer: peerId, remote, link }, 'incoming link: checking its key')
    const decision = await this.authorise(peerId, established.remoteKey)
    if (!decision.ok) {
      const level = decision.code === 'blocked' ? 'info' : 'error'
      log[level]({ peer: peerId, code: decision.code, remote }, `refused incoming link: ${decision.message}`)
      established.stream.destroy()
      return { ok: false, peerId, refusal: decision, presentedKey: established.remoteKey }
    }
    return { ok: true, peerId, conn: new PeerConnection(established, peerId, remote, link) }
  }

  private async locate(peerId: string): Promise<Address> {
    const pinned = this.options.peers.get(peerId)
    try {
      const record = await this.options.discovery.lookup(peerId)
      if (record) return record
    } catch (error) {
      // The server is down: a peer met before can still be tried where it was last seen.
      if (!(error instanceof DiscoveryError) || !pinned?.host || !pinned.port) throw error
      return { host: pinned.host, port: pinned.port, publicKey: pinned.publicKey }
    }
    throw new Error(`${peerId} is not online`)
  }

  /** Whether `remoteKey` may speak for `peerId`. Pins on first contact. */
  private async authorise(peerId: string, remoteKey: string): Promise<PeerAuthDecision> {
    const { peers, discovery, isBlocked } = this.options
    let boundKey: string | undefined
    if (!isBlocked(peerId)) {
      try {
        boundKey = (await discovery.lookup(peerId))?.publicKey
      } catch {
        // Unreachable server: a pinned key still vouches for a peer met before.
      }
    }
    const pinned = peers.get(peerId)?.publicKey
    const decision = decidePeer({
      userId: peerId,
      remoteKey,
      ...(pinned ? { pinnedKey: pinned } : {}),
      ...(boundKey ? { boundKey } : {}),
      blocked: isBlocked(peerId),
    })
    if (decision.ok) peers.pin(peerId, remoteKey)
    return decision
  }
}

function openSocket(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, signal })
    const timer = setTimeout(() => socket.destroy(new Error(`connect to ${host}:${port} timed out`)), timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.setNoDelay(true)
      resolve(socket)
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}
