/**
 * Registry and supervisor of the peer links: one independent peer-link actor per peer, kept in a
 * Map (not as spawned children: spawnChild copies the children map, quadratic with thousands of
 * peers). Each actor owns its peer's link; everything else reads it here, from the actor's
 * snapshot. A failing actor is logged and dropped, and woken again if messages wait for its peer:
 * one bad peer never takes the daemon down, and never strands what was queued for it.
 */
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import { type Actor, createActor, fromPromise, type SimulatedClock } from 'xstate'
import type { DecodedFrame } from '../protocol/peer-frames.js'
import { describeState } from './actor-tree.js'
import { backoffDelay } from './backoff.js'
import type { LinkTiming } from './config.js'
import { directUpgradeMachine } from './direct-upgrade.machine.js'
import type { RoutedConnection } from './frame-router.js'
import type { KeyConflicts } from './key-conflicts.js'
import type { OutboxLink } from './outbox.js'
import { isKeyChange } from './peer-auth.js'
import type { LinkKind } from './peer-connection.js'
import type { AcceptResult } from './peer-dialer.js'
import { KeyConflictError } from './peer-dialer.js'
import { type LinkConnection, peerLinkMachine } from './peer-link.machine.js'

/** A connection as the supervisor handles it: PeerConnection satisfies it; tests pass fakes. */
export type SupervisedConnection = LinkConnection &
  OutboxLink &
  RoutedConnection & {
    on(event: 'frame', listener: (decoded: DecodedFrame) => void): unknown
    on(event: 'close', listener: (reason: string) => void): unknown
    /** Starts reading, once the listeners are in place. */
    start(): void
  }

export interface LinkSupervisorOptions {
  myKey: string
  dialer: {
    dial(peerId: string, signal: AbortSignal): Promise<SupervisedConnection>
    /** A direct link only, tried in the background while the link is relayed. */
    dialDirect(peerId: string, signal: AbortSignal): Promise<SupervisedConnection>
    accept(socket: Socket, link?: LinkKind): Promise<AcceptResult>
  }
  router: { route(peerId: string, conn: SupervisedConnection, decoded: DecodedFrame): void }
  outbox: {
    hasQueued(peerId: string): boolean
    isStalled(link: OutboxLink, maxWaitMs: number): boolean
    linkUp(peerId: string, link: OutboxLink): void
    linkDown(peerId: string): void
    pump(peerId: string, link: OutboxLink): void
  }
  isBlocked(peerId: string): boolean
  keyConflicts: KeyConflicts
  log: Logger
  timing: Pick<LinkTiming, 'backoff' | 'pingIntervalMs' | 'deadAfterMs' | 'idleLifetimeMs' | 'directRetry'>
  /** A link came up or went down: who is online may have changed. */
  peersChanged?(): void
  /** For tests: a simulated clock drives the actors' timers. */
  clock?: SimulatedClock
}

type LinkMachine = ReturnType<typeof peerLinkMachine.provide>
type LinkActor = Actor<LinkMachine>

export class LinkSupervisor {
  private readonly links = new Map<string, LinkActor>()
  private readonly machine: LinkMachine
  /** Failures in a row per peer: a peer whose actor keeps failing is restarted with backoff, not in a loop. */
  private readonly failures = new Map<string, number>()
  private readonly restartTimers = new Set<NodeJS.Timeout>()

  constructor(private readonly options: LinkSupervisorOptions) {
    this.machine = this.provideEffects()
  }

  /** Something waits for `peerId`: send it on the live link, or have the link made. */
  wake(peerId: string): void {
    if (this.options.isBlocked(peerId)) return
    // Per message on a live link: straight to the outbox, no actor event needed.
    const conn = this.connectionOf(peerId)
    if (conn) this.options.outbox.pump(peerId, conn)
    else this.actorFor(peerId).send({ type: 'WAKE' })
  }

  /** The peer's key was just trusted: dial again now, abandoning any dial made with the old key. */
  redial(peerId: string): void {
    this.options.keyConflicts.clear(peerId)
    if (this.hasWaiting(peerId)) this.actorFor(peerId).send({ type: 'REDIAL' })
  }

  /** The peer was unblocked: messages queued before the block may go out now. */
  resume(peerId: string): void {
    if (this.hasWaiting(peerId)) this.wake(peerId)
  }

  private hasWaiting(peerId: string): boolean {
    return !this.options.isBlocked(peerId) && this.options.outbox.hasQueued(peerId)
  }

  /** Closes the link to a peer just blocked; its actor is gone until it is unblocked and needed. */
  block(peerId: string): void {
    const actor = this.links.get(peerId)
    if (!actor) return
    this.links.delete(peerId)
    actor.send({ type: 'BLOCK' })
  }

  /** The live link to `peerId`, if any: read from its actor, the one owner of link state. */
  connectionOf(peerId: string): SupervisedConnection | undefined {
    const conn = this.links.get(peerId)?.getSnapshot().context.conn as SupervisedConnection | null | undefined
    return conn && !conn.closed ? conn : undefined
  }

  /** How the live link to `peerId` runs, if there is one. */
  linkOf(peerId: string): LinkKind | undefined {
    const conn = this.connectionOf(peerId)
    return conn ? (conn.link ?? 'direct') : undefined
  }

  isConnected(peerId: string): boolean {
    return this.connectionOf(peerId) !== undefined
  }

  /** A dial to `peerId` is running: its outcome is not known yet. */
  isDialing(peerId: string): boolean {
    return this.links.get(peerId)?.getSnapshot().matches('dialing') ?? false
  }

  get connectedCount(): number {
    let n = 0
    for (const peerId of this.links.keys()) if (this.isConnected(peerId)) n++
    return n
  }

  /** Each peer's actor and its state, for `status --verbose`. */
  describe(): Array<{ peer: string; state: string }> {
    return [...this.links].map(([peer, actor]) => ({ peer, state: describeState(actor.getSnapshot()) }))
  }

  stop(): void {
    const actors = [...this.links.values()]
    this.links.clear()
    for (const timer of this.restartTimers) clearTimeout(timer)
    this.restartTimers.clear()
    for (const actor of actors) actor.send({ type: 'STOP' })
  }

  /** A socket accepted by the listener (or a relayed circuit's end): handshake, authorise, hand to the peer's actor. */
  async accept(socket: Socket, link: LinkKind = 'direct'): Promise<void> {
    const result = await this.options.dialer.accept(socket, link)
    if (!result.ok) {
      if (isKeyChange(result.refusal.code)) this.options.keyConflicts.record(result.peerId, result.presentedKey)
      return
    }
    this.attach(result.peerId, result.conn)
    this.actorFor(result.peerId).send({ type: 'INCOMING', conn: result.conn })
  }

  /** The machine with this daemon's effects: given once, shared by every peer's actor. */
  private provideEffects(): LinkMachine {
    const { dialer, outbox, log, timing, keyConflicts } = this.options
    return peerLinkMachine.provide({
      actors: {
        dial: fromPromise(async ({ input, signal }) => this.attach(input.peerId, await dialer.dial(input.peerId, signal))),
        upgrade: directUpgradeMachine.provide({
          actors: {
            dialDirect: fromPromise(async ({ input, signal }) => this.attach(input.peerId, await dialer.dialDirect(input.peerId, signal))),
          },
          delays: { retryDelay: ({ context }) => backoffDelay(context.attempt, timing.directRetry) },
        }),
      },
      delays: {
        retryDelay: ({ context }) => backoffDelay(context.attempt, timing.backoff),
        wakeHoldoff: timing.backoff.baseMs,
        pingInterval: timing.pingIntervalMs,
        idleLifetime: timing.idleLifetimeMs,
      },
      guards: {
        hasQueued: (_, { peerId }) => this.hasWaiting(peerId),
        isUnresponsive: (_, { conn }) =>
          Date.now() - conn.lastReceivedAt > timing.deadAfterMs || outbox.isStalled(conn as SupervisedConnection, timing.deadAfterMs),
      },
      actions: {
        linkUp: ({ self }, { peerId, conn }) => {
          keyConflicts.clear(peerId)
          this.failures.delete(peerId)
          log.info({ peer: peerId, initiatorKey: conn.initiatorKey }, 'link up')
          this.options.peersChanged?.()
          // Closed between the dial's end and its adoption: its close event found no one listening.
          if (conn.closed) self.send({ type: 'CONN_CLOSED', conn, reason: 'closed before it was adopted' })
          else outbox.linkUp(peerId, conn as SupervisedConnection)
        },
        linkDown: (_, { peerId, reason, error }) => {
          // Only a current attempt reports: a dial abandoned by REDIAL never reaches this action.
          if (error instanceof KeyConflictError) keyConflicts.record(peerId, error.presentedKey)
          log.info({ peer: peerId, reason }, 'link down')
          this.options.peersChanged?.()
          outbox.linkDown(peerId)
        },
        pump: (_, { peerId, conn }) => outbox.pump(peerId, conn as SupervisedConnection),
      },
    })
  }

  private attach(peerId: string, conn: SupervisedConnection): SupervisedConnection {
    conn.on('frame', (decoded) => this.options.router.route(peerId, conn, decoded))
    conn.on('close', (reason) => this.links.get(peerId)?.send({ type: 'CONN_CLOSED', conn, reason }))
    conn.start()
    return conn
  }

  private actorFor(peerId: string): LinkActor {
    const existing = this.links.get(peerId)
    if (existing) return existing
    const actor = createActor(this.machine, {
      input: { peerId, myKey: this.options.myKey },
      ...(this.options.clock ? { clock: this.options.clock } : {}),
    })
    actor.subscribe({
      complete: () => {
        // Retired (idle too long), blocked or stopped: forget it; the next need makes a fresh one.
        if (this.links.get(peerId) === actor) this.links.delete(peerId)
      },
      error: (error) => this.restart(peerId, actor, error),
    })
    this.links.set(peerId, actor)
    actor.start()
    return actor
  }

  /** Supervision: drop the broken actor and its link; if messages wait, a fresh actor takes over. */
  private restart(peerId: string, actor: LinkActor, error: unknown): void {
    this.options.log.error({ peer: peerId, err: error }, 'peer link actor failed; starting a fresh one')
    if (this.links.get(peerId) !== actor) return
    this.links.delete(peerId)
    ;(actor.getSnapshot().context.conn as SupervisedConnection | null)?.close('link actor failed')
    this.options.outbox.linkDown(peerId)
    const failures = (this.failures.get(peerId) ?? 0) + 1
    this.failures.set(peerId, failures)
    const timer = setTimeout(
      () => {
        this.restartTimers.delete(timer)
        if (!this.links.has(peerId) && this.hasWaiting(peerId)) this.wake(peerId)
      },
      backoffDelay(failures - 1, this.options.timing.backoff),
    )
    timer.unref()
    this.restartTimers.add(timer)
  }
}
