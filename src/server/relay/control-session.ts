/**
 * One daemon's control connection to the relay: challenge, authentication against the registry's
 * binding, then the daemon's requests (`dial`, `ping`) and the relay's notices (`incoming`).
 */
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import { ErrorCode } from '../../protocol/errors.js'
import {
  decodeRelayLine,
  encodeRelayFrame,
  RelayClientFrameSchema,
  RelayLineReader,
  type RelayServerFrame,
  verifyRelayAuth,
} from '../../protocol/relay.js'
import type { Registry } from '../registry.js'

export interface SessionHost {
  registry: Registry
  log: Logger
  now(): number
  authTimeoutMs: number
  idleTimeoutMs: number
  /** The session proved it holds `userId`'s key. */
  authenticated(session: ControlSession): void
  dial(session: ControlSession, id: string, to: string): void
  closed(session: ControlSession): void
}

export class ControlSession {
  userId = ''
  publicKey = ''
  /** Names this session in its relay-home record (relay-home.ts), so only it deletes that record. */
  readonly id = randomBytes(9).toString('base64url')
  private readonly nonce = randomBytes(32).toString('hex')
  private readonly reader = new RelayLineReader()
  private authed = false
  /** An answer is being checked: a second one is refused, not raced against the first. */
  private authing = false
  private ended = false

  constructor(
    private readonly socket: Socket,
    readonly address: string,
    private readonly host: SessionHost,
  ) {
    const authTimer = setTimeout(() => {
      if (!this.authed) this.fail(ErrorCode.IdleTimeout, 'no answer to the challenge in time')
    }, host.authTimeoutMs)
    authTimer.unref()
    socket.setTimeout(host.idleTimeoutMs, () => this.fail(ErrorCode.IdleTimeout, 'control connection idle too long'))
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', () => socket.destroy())
    // node:http leaves upgraded sockets half open: without this a daemon that hung up would stay a
    // session (and its relay home) until the idle timeout.
    socket.once('end', () => socket.end())
    socket.once('close', () => {
      clearTimeout(authTimer)
      this.ended = true
      host.closed(this)
    })
    this.send({ t: 'challenge', nonce: this.nonce })
  }

  send(frame: RelayServerFrame): void {
    if (!this.ended) this.socket.write(encodeRelayFrame(frame))
  }

  /** Ends the connection with one last error frame. */
  fail(code: string, message: string): void {
    if (this.ended) return
    this.send({ t: 'error', code, message })
    this.ended = true
    this.socket.end()
    setTimeout(() => this.socket.destroy(), 1000).unref()
  }

  private onData(chunk: Buffer): void {
    const lines = this.reader.push(chunk)
    if (lines === 'overflow') {
      this.fail(ErrorCode.TooLarge, 'relay control line too long')
      return
    }
    for (const line of lines) {
      if (this.ended) return
      const frame = decodeRelayLine(RelayClientFrameSchema, line)
      if (!frame) {
        this.fail(ErrorCode.BadRequest, 'not a relay control frame')
        return
      }
      if (frame.t === 'ping') this.send({ t: 'pong' })
      else if (frame.t === 'auth') void this.authenticate(frame.userId, frame.sig)
      else if (this.authed) this.host.dial(this, frame.id, frame.to)
      else this.fail(ErrorCode.BadSignature, 'authenticate first')
    }
  }

  private async authenticate(userId: string, sig: string): Promise<void> {
    if (this.authed || this.authing) {
      this.fail(ErrorCode.BadRequest, 'already authenticated')
      return
    }
    this.authing = true
    const binding = await this.host.registry.binding(userId, this.host.now()).catch((err: unknown) => {
      this.host.log.error({ err }, 'relay: registry lookup failed')
      return undefined
    })
    if (!binding) {
      this.fail(ErrorCode.NotFound, `${userId} is not registered here; register first`)
      return
    }
    if (!verifyRelayAuth(binding.publicKey, userId, this.nonce, sig)) {
      this.fail(ErrorCode.BadSignature, 'signature does not verify')
      return
    }
    if (this.ended) return
    this.authed = true
    this.userId = userId
    this.publicKey = binding.publicKey
    this.send({ t: 'ready', userId })
    this.host.authenticated(this)
  }
}
