/** A hand-driven peer: real Noise handshake with any key and any claimed user id, raw frames after it. */
import { connect } from 'node:net'
import { handshake } from '../../src/daemon/peer-connection.js'
import { generateIdentity, type Identity } from '../../src/protocol/identity.js'

export interface RawPeer {
  identity: Identity
  lines: string[]
  closed: Promise<void>
  isClosed(): boolean
  write(data: string | Buffer): void
  destroy(): void
  /** Ends the TCP connection with a reset (RST), as a crashing or hostile peer would. */
  reset(): void
}

export async function connectRawPeer(options: {
  port: number
  userId: string
  identity?: Identity
  expectedKey?: string
}): Promise<RawPeer> {
  const identity = options.identity ?? generateIdentity()
  const socket = connect({ host: '127.0.0.1', port: options.port })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('error', reject)
  })
  const established = await handshake({
    socket,
    initiator: true,
    identity,
    myUserId: options.userId,
    ...(options.expectedKey ? { expectedKey: options.expectedKey } : {}),
    timeoutMs: 5000,
  })
  const lines: string[] = [...established.rest]
  let closed = false
  const stream = established.stream
  const closedPromise = new Promise<void>((resolve) => {
    stream.on('close', () => {
      closed = true
      resolve()
    })
    stream.on('error', () => {
      closed = true
      resolve()
    })
  })
  stream.on('data', (chunk: Buffer) => {
    const got = established.splitter.push(chunk)
    if (got !== 'overflow') lines.push(...got)
  })
  stream.resume()
  return {
    identity,
    lines,
    closed: closedPromise,
    isClosed: () => closed,
    write: (data) => stream.write(typeof data === 'string' ? Buffer.from(data) : data),
    destroy: () => stream.destroy(),
    reset: () => socket.resetAndDestroy(),
  }
}
