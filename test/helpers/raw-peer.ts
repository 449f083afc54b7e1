/** A hand-driven peer: real Noise handshake with any key and any claimed user id, raw frames after it. */
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import SecretStream from '@hyperswarm/secret-stream'
import { handshake } from '../../src/daemon/peer-connection.js'
import { signRegister } from '../../src/protocol/discovery.js'
import { generateIdentity, type Identity } from '../../src/protocol/identity.js'

export interface RawPeer {
  identity: Identity
  lines: string[]
  closed: Promise<void>
  isClosed(): boolean
  /** Like a stream's write: false when the data waits in memory for the connection to drain. */
  write(data: string | Buffer): boolean
  /** Resolves when what was written has drained, or the connection closed. */
  drained(): Promise<void>
  /** Stops reading: what the daemon sends piles up in its buffers, as with a peer that never reads. */
  stopReading(): void
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
  const socket = await openSocket(options.port)
  const established = await handshake({
    socket,
    initiator: true,
    identity,
    myUserId: options.userId,
    ...(options.expectedKey ? { expectedKey: options.expectedKey } : {}),
    timeoutMs: 5000,
  })
  const lines: string[] = established.rest.map(String)
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
  const onData = (chunk: Buffer) => {
    const got = established.splitter.push(chunk)
    if (got !== 'overflow') lines.push(...got)
  }
  stream.on('data', onData)
  stream.resume()
  return {
    identity,
    lines,
    closed: closedPromise,
    isClosed: () => closed,
    write: (data) => stream.write(typeof data === 'string' ? Buffer.from(data) : data),
    drained: () => Promise.race([once(stream, 'drain').then(() => undefined), closedPromise]),
    stopReading: () => {
      stream.off('data', onData)
      stream.pause()
    },
    destroy: () => stream.destroy(),
    reset: () => socket.resetAndDestroy(),
  }
}

/** A Noise stream to the daemon with no hello sent: for peers that misbehave before saying who they are. */
export async function openNoiseStream(port: number, identity: Identity = generateIdentity()): Promise<SecretStream> {
  const socket = await openSocket(port)
  const stream = new SecretStream(true, socket, { keyPair: SecretStream.keyPair(identity.seed) })
  stream.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    stream.once('connect', () => resolve())
    stream.once('close', () => reject(new Error('closed during the handshake')))
  })
  return stream
}

/** Registers `userId` with `identity` at the discovery server, as its daemon would: a raw peer can then pass for a real user. */
export async function registerRawUser(serverUrl: string, userId: string, identity: Identity = generateIdentity()): Promise<Identity> {
  const response = await fetch(`${serverUrl}/v1/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(signRegister(identity, { userId, port: 9, ts: Date.now() })),
  })
  if (response.status !== 200) throw new Error(`registering ${userId} failed: ${response.status} ${await response.text()}`)
  return identity
}

export function openSocket(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port })
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}
