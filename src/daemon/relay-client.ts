/**
 * The daemon's side of the relay protocol (src/protocol/relay.ts): the control connection, with
 * its challenge answered by our identity key, circuit requests on it, and the fresh connection each
 * circuit end opens with its one-time token. A circuit socket comes out as a plain socket, ready
 * for the same Noise handshake and key checks as a direct one.
 */
import { EventEmitter } from 'node:events'
import { request } from 'node:http'
import type { Socket } from 'node:net'
import type { Identity } from '../protocol/identity.js'
import type { RelayClientFrame, RelayServerFrame } from '../protocol/relay.js'
import { decodeRelayServerLine } from '../protocol/relay-server-frame.js'
import {
  encodeRelayFrame,
  RELAY_CIRCUIT_PATH,
  RELAY_PATH,
  RELAY_PROTOCOL,
  RelayLineReader,
  signRelayChallenge,
} from '../protocol/relay-wire.js'

/** A refusal by the relay, with its error code (relay_disabled, peer_unreachable, pairing_timeout...). */
export class RelayError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'RelayError'
  }
}

/**
 * Opens `path` on the server as an Upgrade to the relay protocol; an HTTP error becomes a
 * RelayError. `signal` and the timeout apply until the upgrade only: the socket that comes out
 * lives as long as its owner wants (a signal given to http.request would destroy it later).
 */
export function openUpgrade(serverUrl: string, path: string, signal: AbortSignal, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, serverUrl), { headers: { connection: 'Upgrade', upgrade: RELAY_PROTOCOL } })
    let done = false
    const settle = (then: () => void) => {
      if (done) return
      done = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      then()
    }
    const giveUp = (error: unknown) => {
      settle(() => reject(error))
      req.destroy()
    }
    const onAbort = () => giveUp(signal.reason)
    const timer = setTimeout(() => giveUp(new RelayError('timeout', `no answer from the relay at ${serverUrl} in time`)), timeoutMs)
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    req.on('upgrade', (_res, socket, head) => {
      socket.setNoDelay(true)
      if (head.length > 0) socket.unshift(head)
      if (done) socket.destroy()
      else settle(() => resolve(socket))
    })
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (s: string) => (body += s.length < 4096 ? s : ''))
      res.on('end', () => {
        const error = (() => {
          try {
            return (JSON.parse(body) as { error?: { code?: string; message?: string } }).error
          } catch {
            return undefined
          }
        })()
        settle(() => reject(new RelayError(error?.code ?? 'http_error', `relay refused: ${error?.message ?? `HTTP ${res.statusCode}`}`)))
      })
    })
    req.on('error', (error) =>
      settle(() => reject(new RelayError('server_unreachable', `relay at ${serverUrl} unreachable: ${error.message}`))),
    )
    req.end()
  })
}

/** One end of a circuit: its own connection, joined to the other end by the relay once both are in. */
export function openCircuit(serverUrl: string, token: string, signal: AbortSignal, timeoutMs: number): Promise<Socket> {
  return openUpgrade(serverUrl, `${RELAY_CIRCUIT_PATH}${token}`, signal, timeoutMs)
}

export interface IncomingCircuit {
  from: string
  fromKey: string
  token: string
  /** Where the circuit meets, when the relay names it (else the control connection's instance). */
  url?: string
}

/** Our end of a circuit the relay granted: its token and where it meets (`url` absent: this connection's instance). */
export interface GrantedCircuit {
  token: string
  url?: string
}

interface RelayControlEvents {
  incoming: [IncomingCircuit]
  close: [reason: string]
}

/** An authenticated control connection to the relay. */
export class RelayControl extends EventEmitter<RelayControlEvents> {
  lastReceivedAt = Date.now()
  closed = false
  private nextId = 0
  private readonly waiting = new Map<string, { resolve(granted: GrantedCircuit): void; reject(error: Error): void }>()

  private constructor(
    private readonly socket: Socket,
    /** The server instance this connection is to: its circuits meet there. */
    readonly serverUrl: string,
  ) {
    super()
  }

  /** Connects, answers the challenge and waits for `ready`; rejects with the relay's refusal. */
  static async connect(options: {
    serverUrl: string
    identity: Identity
    userId: string
    signal: AbortSignal
    timeoutMs: number
    /** Listens before the first frame is read: a circuit may be announced right behind `ready`. */
    onIncoming?(circuit: IncomingCircuit): void
  }): Promise<RelayControl> {
    const socket = await openUpgrade(options.serverUrl, RELAY_PATH, options.signal, options.timeoutMs)
    const control = new RelayControl(socket, options.serverUrl)
    if (options.onIncoming) control.on('incoming', options.onIncoming)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new RelayError('timeout', 'the relay did not accept us in time')), options.timeoutMs)
      const fail = (error: Error) => {
        clearTimeout(timer)
        socket.destroy()
        reject(error)
      }
      const onAbort = () => fail(options.signal.reason as Error)
      options.signal.addEventListener('abort', onAbort, { once: true })
      control.start((frame) => {
        if (frame.t === 'challenge') control.send(signRelayChallenge(options.identity, options.userId, frame.nonce))
        else if (frame.t === 'ready') {
          clearTimeout(timer)
          options.signal.removeEventListener('abort', onAbort)
          resolve(control)
          return true
        } else if (frame.t === 'error') fail(new RelayError(frame.code, `relay refused: ${frame.message}`))
        return false
      })
      socket.once('close', () => fail(new RelayError('closed', 'the relay closed the connection')))
    })
  }

  /** Asks for a circuit to `peerId`: our end of it, or the relay's refusal. */
  dial(peerId: string, signal: AbortSignal): Promise<GrantedCircuit> {
    if (this.closed) return Promise.reject(new RelayError('closed', 'no relay connection'))
    const id = String(++this.nextId)
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiting.delete(id)
        reject(signal.reason)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      const settle = () => signal.removeEventListener('abort', onAbort)
      this.waiting.set(id, {
        resolve: (granted) => {
          settle()
          resolve(granted)
        },
        reject: (error) => {
          settle()
          reject(error)
        },
      })
      this.send({ t: 'dial', id, to: peerId })
    })
  }

  ping(): void {
    this.send({ t: 'ping' })
  }

  close(reason = 'closed by this daemon'): void {
    if (this.closed) return
    this.closed = true
    this.socket.destroy()
    for (const waiter of this.waiting.values()) waiter.reject(new RelayError('closed', reason))
    this.waiting.clear()
    this.emit('close', reason)
  }

  private send(frame: RelayClientFrame): void {
    if (!this.closed) this.socket.write(encodeRelayFrame(frame))
  }

  /**
   * Reads frames: first through `handshake` until it returns true (ready), then as the session's
   * own. A malformed frame or an overlong line ends the connection.
   */
  private start(handshake: (frame: RelayServerFrame) => boolean): void {
    const reader = new RelayLineReader()
    let ready = false
    this.socket.on('data', (chunk: Buffer) => {
      this.lastReceivedAt = Date.now()
      const lines = reader.push(chunk)
      if (lines === 'overflow') return this.close('relay sent an overlong line')
      for (const line of lines) {
        const frame = decodeRelayServerLine(line)
        if (!frame) return this.close('relay sent a malformed frame')
        if (!ready) ready = handshake(frame)
        else this.onFrame(frame)
      }
    })
    this.socket.on('error', () => this.socket.destroy())
    this.socket.on('close', () => this.close('relay connection lost'))
  }

  private onFrame(frame: RelayServerFrame): void {
    if (frame.t === 'incoming') {
      const { from, fromKey, token, url } = frame
      this.emit('incoming', url ? { from, fromKey, token, url } : { from, fromKey, token })
    } else if (frame.t === 'dial_ok')
      this.take(frame.id)?.resolve(frame.url ? { token: frame.token, url: frame.url } : { token: frame.token })
    else if (frame.t === 'dial_failed') this.take(frame.id)?.reject(new RelayError(frame.code, frame.message))
    else if (frame.t === 'error') this.close(`relay: ${frame.message} (${frame.code})`)
  }

  private take(id: string) {
    const waiter = this.waiting.get(id)
    this.waiting.delete(id)
    return waiter
  }
}
