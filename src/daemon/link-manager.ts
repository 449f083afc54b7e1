/**
 * Supervisor of the peer links: one independent peer-link actor per peer, kept in a Map (not as
 * spawned children: spawnChild copies the children map, quadratic with thousands of peers). It
 * dials and accepts connections, checks who is on the other end, and routes decoded frames to the
 * inbox and outbox. A failing actor is logged and replaced; it never takes the daemon down.
 */
import { connect, type Socket } from 'node:net'
import type { Logger } from 'pino'
import { type Actor, createActor } from 'xstate'
import type { Identity } from '../protocol/identity.js'
import { toHex } from '../protocol/identity.js'
import type { DecodedFrame } from '../protocol/peer-frames.js'
import { msUntilToken, type RateLimitConfig, takeToken } from '../protocol/token-bucket.js'
import { normalizeUserId } from '../protocol/user-id.js'
import type { BackoffPolicy } from './backoff.js'
import { type DiscoveryClient, DiscoveryError } from './discovery-client.js'
import type { Inbox } from './inbox.js'
import type { Outbox } from './outbox.js'
import { decidePeer } from './peer-auth.js'
import { handshake, PeerConnection } from './peer-connection.js'
import { type LinkDeps, peerLinkMachine } from './peer-link.machine.js'
import type { PeerStore } from './stores/peer-store.js'
import type { PolicyStore } from './stores/policy-store.js'

export interface LinkTiming {
  backoff: BackoffPolicy
  pingIntervalMs: number
  deadAfterMs: number
  idleLifetimeMs: number
  handshakeTimeoutMs: number
  connectTimeoutMs: number
  /** Incoming messages per link; over it, reading pauses (TCP pushes back on the sender, nothing is lost). */
  peerRate: RateLimitConfig | null
}

export interface LinkManagerOptions {
  identity: Identity
  userId: string
  discovery: DiscoveryClient
  peers: PeerStore
  policy: PolicyStore
  inbox: Inbox
  outbox: Outbox
  log: Logger
  timing: LinkTiming
}

type LinkActor = Actor<typeof peerLinkMachine>

export class LinkManager {
  private readonly links = new Map<string, LinkActor>()
  private readonly connected = new Map<string, PeerConnection>()
  /** Peers that presented a key other than the one pinned (or bound by the server): the key they showed. */
  private readonly keyConflicts = new Map<string, string>()
  private readonly deps: LinkDeps
  private readonly myKey: string

  constructor(private readonly options: LinkManagerOptions) {
    this.myKey = toHex(options.identity.publicKey)
    const { outbox, timing } = options
    this.deps = {
      myKey: this.myKey,
      backoff: timing.backoff,
      pingIntervalMs: timing.pingIntervalMs,
      deadAfterMs: timing.deadAfterMs,
      idleLifetimeMs: timing.idleLifetimeMs,
      dial: (peerId, signal) => this.dial(peerId, signal),
      hasQueued: (peerId) => !options.policy.isBlocked(peerId) && outbox.hasQueued(peerId),
      isStalled: (peerId) => outbox.isStalled(peerId, timing.deadAfterMs),
      linkUp: (peerId, conn) => {
        this.connected.set(peerId, conn as PeerConnection)
        this.keyConflicts.delete(peerId)
        options.log.info({ peer: peerId, initiatedByMe: (conn as PeerConnection).initiatedByMe }, 'link up')
        outbox.linkUp(peerId, conn as PeerConnection)
      },
      linkDown: (peerId, reason) => {
        const conn = this.connected.get(peerId)
        if (!conn || conn.closed) this.connected.delete(peerId)
        options.log.info({ peer: peerId, reason }, 'link down')
        outbox.linkDown(peerId)
      },
      pump: (peerId) => outbox.pump(peerId),
    }
  }

  /** Something waits for `peerId`: make sure its link is (being) made. */
  wake(peerId: string): void {
    if (this.options.policy.isBlocked(peerId)) return
    // Per message on a live link: straight to the outbox, no actor event needed.
    if (this.isConnected(peerId)) this.options.outbox.pump(peerId)
    else this.actorFor(peerId).send({ type: 'WAKE' })
  }

  /** Closes the link to a peer just blocked; its actor is gone until it is unblocked and needed. */
  block(peerId: string): void {
    const actor = this.links.get(peerId)
    if (!actor) return
    actor.send({ type: 'BLOCK' })
    this.links.delete(peerId)
    this.connected.delete(peerId)
    this.options.outbox.linkDown(peerId)
  }

  /** The key `peerId` presented instead of the pinned one, when it did: reported, never accepted. */
  keyConflict(peerId: string): string | undefined {
    return this.keyConflicts.get(peerId)
  }

  /** The user trusts `peerId`'s new key: forget the conflict and try again. */
  clearKeyConflict(peerId: string): void {
    this.keyConflicts.delete(peerId)
    if (this.options.outbox.hasQueued(peerId)) this.wake(peerId)
  }

  get keyConflictCount(): number {
    return this.keyConflicts.size
  }

  private noteKeyConflict(peerId: string, code: string, presentedKey: string): void {
    if (code === 'key_changed' || code === 'key_mismatch') this.keyConflicts.set(peerId, presentedKey)
  }

  isConnected(peerId: string): boolean {
    return this.connected.get(peerId)?.closed === false
  }

  get connectedCount(): number {
    let n = 0
    for (const conn of this.connected.values()) if (!conn.closed) n++
    return n
  }

  stop(): void {
    for (const actor of this.links.values()) actor.send({ type: 'STOP' })
    this.links.clear()
    this.connected.clear()
  }

  /** A socket accepted by the listener: handshake, authorise, hand to the peer's actor. */
  async accept(socket: Socket): Promise<void> {
    const { identity, userId, log, timing } = this.options
    const remote = { host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 }
    const established = await handshake({ socket, initiator: false, identity, myUserId: userId, timeoutMs: timing.handshakeTimeoutMs })
    const peerId = normalizeUserId(established.hello.userId)
    log.info({ peer: peerId, remote }, 'incoming link: checking its key')
    const refusal = await this.authorise(peerId, established.remoteKey)
    if (refusal) {
      this.noteKeyConflict(peerId, refusal.code, established.remoteKey)
      const level = refusal.code === 'blocked' ? 'info' : 'error'
      log[level]({ peer: peerId, code: refusal.code, remote }, `refused incoming link: ${refusal.message}`)
      established.stream.destroy()
      return
    }
    if (established.stream.destroyed) return
    const conn = this.wire(peerId, new PeerConnection(established, peerId, remote))
    this.actorFor(peerId).send({ type: 'INCOMING', conn })
  }

  private async dial(peerId: string, signal: AbortSignal): Promise<PeerConnection> {
    const { identity, userId, discovery, peers, timing } = this.options
    const pinned = peers.get(peerId)
    let address: { host: string; port: number; publicKey: string } | undefined
    try {
      const record = await discovery.lookup(peerId)
      if (record) address = record
    } catch (error) {
      // The server is down: a peer met before can still be tried where it was last seen.
      if (!(error instanceof DiscoveryError) || !pinned?.host || !pinned.port) throw error
      address = { host: pinned.host, port: pinned.port, publicKey: pinned.publicKey }
    }
    if (!address) throw new Error(`${peerId} is not online`)
    const decision = decidePeer({
      userId: peerId,
      remoteKey: address.publicKey,
      ...(pinned ? { pinnedKey: pinned.publicKey } : {}),
      boundKey: address.publicKey,
      blocked: false,
    })
    if (!decision.ok) {
      this.noteKeyConflict(peerId, decision.code, address.publicKey)
      this.options.log.error({ peer: peerId, code: decision.code }, `not dialing: ${decision.message}`)
      throw new Error(decision.message)
    }
    const socket = await openSocket(address.host, address.port, timing.connectTimeoutMs, signal)
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
    peers.seen(peerId, address.host, address.port)
    const conn = new PeerConnection(established, peerId, address)
    if (signal.aborted) {
      conn.close('dial no longer wanted')
      throw new Error('dial aborted')
    }
    return this.wire(peerId, conn)
  }

  /** Returns why `remoteKey` may not speak for `peerId`, or undefined when it may. Pins on first contact. */
  private async authorise(peerId: string, remoteKey: string) {
    const { peers, policy, discovery } = this.options
    const pinned = peers.get(peerId)?.publicKey
    let boundKey: string | undefined
    if (!policy.isBlocked(peerId)) {
      try {
        boundKey = (await discovery.lookup(peerId))?.publicKey
      } catch {
        // Unreachable server: a pinned key still vouches for a peer met before.
      }
    }
    const decision = decidePeer({
      userId: peerId,
      remoteKey,
      ...(pinned ? { pinnedKey: pinned } : {}),
      ...(boundKey ? { boundKey } : {}),
      blocked: policy.isBlocked(peerId),
    })
    if (!decision.ok) return decision
    peers.pin(peerId, remoteKey)
    return undefined
  }

  private wire(peerId: string, conn: PeerConnection): PeerConnection {
    conn.on('frame', (decoded) => this.onFrame(peerId, conn, decoded))
    conn.on('close', (reason) => this.links.get(peerId)?.send({ type: 'CONN_CLOSED', conn, reason }))
    return conn
  }

  private onFrame(peerId: string, conn: PeerConnection, decoded: DecodedFrame): void {
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

  private throttle(conn: PeerConnection): void {
    const rate = this.options.timing.peerRate
    if (!rate) return
    const { allowed, bucket } = takeToken(conn.inboundBucket, Date.now(), rate)
    conn.inboundBucket = bucket
    if (!allowed) conn.pauseFor(msUntilToken(bucket, rate))
  }

  private actorFor(peerId: string): LinkActor {
    const existing = this.links.get(peerId)
    if (existing) return existing
    const actor = createActor(peerLinkMachine, { input: { peerId, deps: this.deps } })
    actor.subscribe({
      complete: () => {
        // Retired (idle too long), blocked or stopped: forget it; the next need makes a fresh one.
        if (this.links.get(peerId) === actor) this.links.delete(peerId)
      },
      error: (error) => {
        // Supervision: log, drop the broken actor and its link; the next need makes a fresh one.
        this.options.log.error({ peer: peerId, err: error }, 'peer link actor failed; restarting it on next use')
        if (this.links.get(peerId) === actor) this.links.delete(peerId)
        this.connected.get(peerId)?.close('link actor failed')
        this.connected.delete(peerId)
      },
    })
    this.links.set(peerId, actor)
    actor.start()
    return actor
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
