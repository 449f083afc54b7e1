/**
 * Accepts peer TCP connections and hands each to the link manager. Caps keep floods from
 * exhausting memory: at most `maxPending` connections may be mid-handshake (each can make the
 * Noise library buffer one large message), at most `maxPendingPerAddress` of them from one
 * address (so one host cannot take every slot), and at most `maxConnections` sockets in all.
 */
import { createServer, type Server, type Socket } from 'node:net'
import type { Logger } from 'pino'

export interface ListenerOptions {
  host: string
  port: number
  maxPending: number
  maxPendingPerAddress: number
  maxConnections: number
  log: Logger
  accept(socket: Socket): Promise<void>
}

export class PeerListener {
  private server: Server | undefined
  private pending = 0
  private readonly pendingByAddress = new Map<string, number>()

  constructor(private readonly options: ListenerOptions) {}

  async listen(): Promise<{ host: string; port: number }> {
    const { options } = this
    const server = createServer((socket) => this.onConnection(socket))
    server.maxConnections = options.maxConnections
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port, options.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    server.on('error', (error) => options.log.error({ err: error }, 'peer listener error'))
    const address = server.address()
    return { host: options.host, port: typeof address === 'object' && address ? address.port : options.port }
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }

  private onConnection(socket: Socket): void {
    const { options } = this
    const address = socket.remoteAddress ?? '?'
    const fromAddress = this.pendingByAddress.get(address) ?? 0
    if (this.pending >= options.maxPending || fromAddress >= options.maxPendingPerAddress) {
      options.log.warn({ remote: address }, 'too many connections mid-handshake; dropping one')
      socket.destroy()
      return
    }
    socket.setNoDelay(true)
    socket.on('error', () => socket.destroy())
    this.pending++
    this.pendingByAddress.set(address, fromAddress + 1)
    let settled = false
    const settle = () => {
      if (settled) return
      settled = true
      this.pending--
      const left = (this.pendingByAddress.get(address) ?? 1) - 1
      if (left > 0) this.pendingByAddress.set(address, left)
      else this.pendingByAddress.delete(address)
    }
    options
      .accept(socket)
      .catch((error: Error) => options.log.info({ remote: socket.remoteAddress, reason: error.message }, 'incoming connection refused'))
      .finally(settle)
  }
}
