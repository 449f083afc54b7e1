/**
 * Circuits through the relay, both ways: asking the relay for a circuit to a peer and opening our
 * end of it, and opening our end of a circuit another daemon asked for. Either way the socket that
 * comes out goes through the same handshake and key checks as a direct one (PeerDialer), on both
 * ends: a relay that pairs us with the wrong daemon gets a refused link, never a message.
 */
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import { type GrantedCircuit, type IncomingCircuit, openCircuit, RelayError } from './relay-client.js'

/** What the dialer needs of the control connection: RelayControl provides it. */
export interface CircuitRequester {
  /** The server instance the control connection is to (one of several with failover): circuits meet there. */
  readonly serverUrl: string
  dial(peerId: string, signal: AbortSignal): Promise<GrantedCircuit>
}

export interface RelayDialerOptions {
  /** The live relay connection, read from the relay actor. */
  control(): CircuitRequester | undefined
  /** A circuit end ready for the handshake (as the responder). */
  accept(socket: Socket): Promise<void>
  log: Logger
  /** How long opening a circuit may take: the relay's pairing timeout and a margin. */
  timeoutMs: number
  /** Circuits others asked for that may be opening or mid-handshake at once. */
  maxPendingIncoming: number
}

export class RelayDialer {
  private pendingIncoming = 0

  constructor(private readonly options: RelayDialerOptions) {}

  /** Our end of a new circuit to `peerId`, before any handshake. */
  async open(peerId: string, signal: AbortSignal): Promise<Socket> {
    const control = this.options.control()
    if (!control) throw new RelayError('relay_not_connected', 'no relay connection')
    const { token, url } = await control.dial(peerId, signal)
    // Another instance of the namespace when the peer's relay connection is there (dial_ok.url).
    return openCircuit(url ?? control.serverUrl, token, signal, this.options.timeoutMs)
  }

  /** The relay says someone asks for a circuit to us: open our end, then handshake and authorise as for any incoming link. */
  incoming(circuit: IncomingCircuit, serverUrl: string): void {
    const { log } = this.options
    if (this.pendingIncoming >= this.options.maxPendingIncoming) {
      log.warn({ from: circuit.from }, 'too many relayed circuits opening at once; ignoring one')
      return
    }
    this.pendingIncoming++
    openCircuit(circuit.url ?? serverUrl, circuit.token, AbortSignal.timeout(this.options.timeoutMs), this.options.timeoutMs)
      .then((socket) => this.options.accept(socket))
      .catch((error: Error) => log.info({ from: circuit.from, reason: error.message }, 'relayed circuit not taken'))
      .finally(() => this.pendingIncoming--)
  }
}
