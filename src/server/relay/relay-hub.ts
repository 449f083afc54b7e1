/**
 * The relay of one server instance: the live control sessions by user id, the circuits being
 * paired by token, and the counts its limits are checked against. It answers the HTTP Upgrades
 * under /v1/relay (see src/protocol/relay.ts for the protocol).
 *
 *   alice --dial bob--> hub --incoming(token B)--> bob's session
 *         <--dial_ok(token A)--
 *   alice: GET /v1/relay/circuit/A   bob: GET /v1/relay/circuit/B   -> both 101, splice
 *
 * With several instances on one Redis, a dial for a daemon connected to another instance is
 * forwarded there (relay-neighbours.ts): the circuit meets on the dialed daemon's instance, and
 * `dial_ok.url` sends the dialer to it, so a splice never spans two processes.
 *
 * A circuit socket gets its 101 only once the other end is there too, so an end left waiting gets
 * a plain HTTP error (504 pairing_timeout) rather than a socket that goes quiet.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { ErrorCode, errorBody } from '../../protocol/errors.js'
import { RELAY_CIRCUIT_PATH, RELAY_PATH, RELAY_PROTOCOL } from '../../protocol/relay.js'
import { normalizeAddress } from '../http.js'
import type { Registry } from '../registry.js'
import { ControlSession } from './control-session.js'
import { admitConnection, ByteBudget, type Refusal, type RelayLimits } from './relay-limits.js'
import { type CircuitParty, localOnly, type PairRefusal, type RelayNeighbours } from './relay-neighbours.js'
import { splice } from './splice.js'

export interface RelayHubOptions {
  registry: Registry
  limits: RelayLimits
  log: Logger
  now: () => number
  /** Sees every byte the relay copies between daemons (tests check that none of it is plaintext). */
  tap?: (chunk: Buffer) => void
  /** Other instances of the namespace, for daemons whose control connection is there; default: none. */
  neighbours?: RelayNeighbours
}

interface CircuitEnd {
  userId: string
  key: string
  token: string
  /** The socket and what it sent after its request, once this end is in. */
  socket?: Socket
  head?: Buffer
}

interface Circuit {
  ends: [CircuitEnd, CircuitEnd]
  timer: NodeJS.Timeout
  spliced: boolean
}

export class RelayHub {
  private readonly sessions = new Map<string, ControlSession>()
  private readonly byToken = new Map<string, { circuit: Circuit; end: CircuitEnd }>()
  private readonly circuitsByKey = new Map<string, number>()
  private readonly byAddress = new Map<string, number>()
  private readonly sockets = new Set<Socket>()
  private readonly budget: ByteBudget
  private readonly neighbours: RelayNeighbours
  /**
   * This instance's own relay address when it has neighbours: named in `dial_ok` and `incoming`,
   * so a daemon whose control connection came through a load balancer opens its circuit end here.
   */
  private url: string | undefined

  constructor(private readonly options: RelayHubOptions) {
    this.budget = new ByteBudget(options.limits.bytesPerSecondPerKey)
    this.neighbours = options.neighbours ?? localOnly()
  }

  /** Takes pairings other instances forward for daemons connected here; `url`: this instance's relay address. */
  startNeighbours(url: string | undefined): Promise<void> {
    this.url = url
    return this.neighbours.start(url, (to, from) => this.hostForwarded(to, from))
  }

  get connectionCount(): number {
    return this.sockets.size
  }

  /** The server's 'upgrade' event. */
  handleUpgrade(req: IncomingMessage, duplex: Duplex, head: Buffer): void {
    // node:http hands over the net.Socket itself (typed as a Duplex for TLS servers too).
    const socket = duplex as Socket
    socket.on('error', () => socket.destroy())
    const path = (req.url ?? '').split('?')[0] ?? ''
    if (String(req.headers.upgrade).toLowerCase() !== RELAY_PROTOCOL || !path.startsWith(RELAY_PATH)) {
      refuse(socket, { status: 404, code: ErrorCode.NotFound, message: `no upgrade to ${req.headers.upgrade} at ${path}` })
      return
    }
    const address = normalizeAddress(socket.remoteAddress) ?? 'unknown'
    const refusal = admitConnection(this.options.limits, this.sockets.size, this.byAddress.get(address) ?? 0)
    if (refusal) {
      this.options.log.warn({ remoteAddress: address, code: refusal.code }, 'relay connection refused')
      refuse(socket, refusal)
      return
    }
    if (path === RELAY_PATH) {
      this.track(socket, address)
      socket.write(switching())
      socket.setNoDelay(true)
      // The session lives on its socket's listeners; the hub keeps it once it has authenticated.
      new ControlSession(socket, address, this.sessionHost())
      if (head.length > 0) socket.unshift(head)
      return
    }
    if (path.startsWith(RELAY_CIRCUIT_PATH)) {
      const entry = this.byToken.get(path.slice(RELAY_CIRCUIT_PATH.length))
      if (!entry || entry.end.socket) {
        refuse(socket, { status: 404, code: ErrorCode.NotFound, message: 'unknown or used circuit token' })
        return
      }
      this.track(socket, address)
      this.byToken.delete(entry.end.token)
      entry.end.socket = socket
      entry.end.head = head
      socket.setNoDelay(true)
      socket.once('close', () => {
        if (!entry.circuit.spliced) this.endCircuit(entry.circuit)
      })
      this.maybeSplice(entry.circuit)
      return
    }
    refuse(socket, { status: 404, code: ErrorCode.NotFound, message: `no relay endpoint at ${path}` })
  }

  prune(now: number): void {
    this.budget.prune(now)
  }

  /** Homes recorded here are removed first, so no other instance sends a pairing to a relay that is gone. */
  async close(): Promise<void> {
    await this.neighbours.close().catch((err: unknown) => this.options.log.warn({ err }, 'relay: closing the neighbours failed'))
    for (const socket of this.sockets) socket.destroy()
  }

  private sessionHost() {
    const { registry, log, now, limits } = this.options
    return {
      registry,
      log,
      now,
      authTimeoutMs: limits.authTimeoutMs,
      idleTimeoutMs: limits.idleTimeoutMs,
      authenticated: (session: ControlSession) => {
        const older = this.sessions.get(session.userId)
        this.sessions.set(session.userId, session)
        older?.fail('replaced', 'another relay connection of this user took over')
        this.neighbours.homed(session.userId, session.id)
        log.debug({ userId: session.userId, remoteAddress: session.address }, 'relay: control connection ready')
      },
      closed: (session: ControlSession) => {
        if (this.sessions.get(session.userId) !== session) return
        this.sessions.delete(session.userId)
        this.neighbours.left(session.userId, session.id)
        log.debug({ userId: session.userId }, 'relay: control connection closed')
      },
      dial: (session: ControlSession, id: string, to: string) => this.dial(session, id, to),
    }
  }

  private dial(from: ControlSession, id: string, to: string): void {
    const failed = (refusal: PairRefusal) => from.send({ t: 'dial_failed', id, code: refusal.code, message: refusal.message })
    if (to === from.userId) {
      failed({ ok: false, code: ErrorCode.BadRequest, message: 'a circuit to yourself' })
      return
    }
    const party = { userId: from.userId, key: from.publicKey }
    const target = this.sessions.get(to)
    if (target) {
      const hosted = this.host(party, target)
      if (hosted.ok) from.send({ t: 'dial_ok', id, token: hosted.token, ...(this.url ? { url: this.url } : {}) })
      else failed(hosted)
      return
    }
    // Not connected here: the circuit meets on the instance that holds `to`'s connection, if any.
    void this.neighbours.pair(to, party).then((answer) => {
      if (answer.ok) from.send({ t: 'dial_ok', id, token: answer.token, url: answer.url })
      else failed(answer)
    })
  }

  /** A dial another instance forwards for one of its daemons to one of ours. */
  private hostForwarded(to: string, from: CircuitParty): { ok: true; token: string } | PairRefusal {
    const target = this.sessions.get(to)
    if (!target) return { ok: false, code: ErrorCode.PeerUnreachable, message: `${to} has no relay connection on its instance any more` }
    if (target.userId === from.userId) return { ok: false, code: ErrorCode.BadRequest, message: 'a circuit to yourself' }
    this.options.log.debug({ from: from.userId, to }, 'relay: hosting a circuit for another instance')
    return this.host(from, target)
  }

  /** Opens a circuit here between `from` and a session here, within the limits: the dialer's token. */
  private host(from: CircuitParty, target: ControlSession): { ok: true; token: string } | PairRefusal {
    const { limits } = this.options
    for (const key of [from.key, target.publicKey]) {
      if ((this.circuitsByKey.get(key) ?? 0) >= limits.maxCircuitsPerKey) {
        return { ok: false, code: ErrorCode.TooManyCircuits, message: `at most ${limits.maxCircuitsPerKey} relay circuits per key at once` }
      }
    }
    const ends: [CircuitEnd, CircuitEnd] = [
      { userId: from.userId, key: from.key, token: newToken() },
      { userId: target.userId, key: target.publicKey, token: newToken() },
    ]
    const circuit: Circuit = { ends, spliced: false, timer: setTimeout(() => this.pairingTimedOut(circuit), limits.pairingTimeoutMs) }
    circuit.timer.unref()
    for (const end of ends) {
      this.byToken.set(end.token, { circuit, end })
      this.circuitsByKey.set(end.key, (this.circuitsByKey.get(end.key) ?? 0) + 1)
    }
    target.send({ t: 'incoming', from: from.userId, fromKey: from.key, token: ends[1].token, ...(this.url ? { url: this.url } : {}) })
    return { ok: true, token: ends[0].token }
  }

  private maybeSplice(circuit: Circuit): void {
    const [a, b] = circuit.ends
    if (!a.socket || !b.socket) return
    circuit.spliced = true
    clearTimeout(circuit.timer)
    for (const end of [a, b]) {
      end.socket!.write(switching())
      if (end.head && end.head.length > 0) end.socket!.unshift(end.head)
    }
    this.options.log.debug({ a: a.userId, b: b.userId }, 'relay: circuit spliced')
    splice(
      { socket: a.socket, key: a.key },
      { socket: b.socket, key: b.key },
      {
        budget: this.budget,
        idleTimeoutMs: this.options.limits.idleTimeoutMs,
        ...(this.options.tap ? { tap: this.options.tap } : {}),
        onClose: (reason) => {
          this.options.log.debug({ a: a.userId, b: b.userId, reason }, 'relay: circuit closed')
          this.endCircuit(circuit)
        },
      },
    )
  }

  private pairingTimedOut(circuit: Circuit): void {
    const seconds = this.options.limits.pairingTimeoutMs / 1000
    for (const end of circuit.ends) {
      if (!end.socket) continue
      refuse(end.socket, { status: 504, code: ErrorCode.PairingTimeout, message: `the other end did not come within ${seconds} s` })
      end.socket = undefined
    }
    this.endCircuit(circuit)
  }

  /** Forgets a circuit (once: later calls find nothing to forget). */
  private endCircuit(circuit: Circuit): void {
    clearTimeout(circuit.timer)
    for (const end of circuit.ends) {
      if (this.byToken.get(end.token)?.circuit === circuit) this.byToken.delete(end.token)
      if (!end.key) continue
      const left = (this.circuitsByKey.get(end.key) ?? 1) - 1
      if (left > 0) this.circuitsByKey.set(end.key, left)
      else this.circuitsByKey.delete(end.key)
      end.key = ''
      if (!circuit.spliced) end.socket?.destroy()
    }
  }

  private track(socket: Socket, address: string): void {
    this.sockets.add(socket)
    this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1)
    socket.once('close', () => {
      this.sockets.delete(socket)
      const left = (this.byAddress.get(address) ?? 1) - 1
      if (left > 0) this.byAddress.set(address, left)
      else this.byAddress.delete(address)
    })
  }
}

function newToken(): string {
  return randomBytes(18).toString('base64url')
}

function switching(): string {
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${RELAY_PROTOCOL}\r\nConnection: Upgrade\r\n\r\n`
}

const REASONS: Record<number, string> = { 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable', 504: 'Gateway Timeout' }

/** Answers an upgrade request with a JSON error, as any other request of the server would be, and hangs up. */
export function refuse(socket: Duplex, refusal: Refusal): void {
  const body = JSON.stringify(errorBody(refusal.code, refusal.message))
  socket.end(
    `HTTP/1.1 ${refusal.status} ${REASONS[refusal.status] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  )
  setTimeout(() => socket.destroy(), 1000).unref()
}
