/**
 * A relay that lies (SPEC section 9: it "cannot pose as either side"). Alice's daemon talks to a
 * fake server that passes her HTTP requests to the real one but runs its own relay: every circuit
 * it gives her ends at an impostor that holds another key and says hello as bob. Both ways round
 * (alice dialing bob, "bob" dialing alice) the link must be refused by alice's own key check, and
 * the impostor must get no message.
 */
import { readFileSync } from 'node:fs'
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { handshake } from '../../src/daemon/peer-connection.js'
import { generateIdentity, toHex } from '../../src/protocol/identity.js'
import { decodeRelayLine, encodeRelayFrame, RelayClientFrameSchema, RelayLineReader } from '../../src/protocol/relay.js'
import { type DaemonProcess, eventually, startDaemonProcess, status } from '../helpers/daemon.js'
import { type ServerProcess, startServerProcess } from '../helpers/server.js'

const impostor = generateIdentity()

interface Liar {
  url: string
  /** Lines the impostor read after its handshakes (alice's frames, if any got through). */
  impostorLines: string[]
  handshakes: { asResponder: number; asInitiator: number }
  close(): void
}

async function lyingRelay(realPort: number): Promise<Liar> {
  const impostorLines: string[] = []
  const handshakes = { asResponder: 0, asInitiator: 0 }
  const sockets = new Set<Socket>()
  const circuits = new Map<string, 'respond' | 'initiate'>()
  const server: Server = createServer((req, res) => {
    const upstream = httpRequest({ host: '127.0.0.1', port: realPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers)
      up.pipe(res)
    })
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  const impersonate = (socket: Socket, initiator: boolean) => {
    handshake({ socket, initiator, identity: impostor, myUserId: 'bob', timeoutMs: 10_000 }).then(
      (established) => {
        if (initiator) handshakes.asInitiator++
        else handshakes.asResponder++
        impostorLines.push(...established.rest.map(String))
        established.stream.on('data', (c: Buffer) => impostorLines.push(c.toString()))
        established.stream.on('error', () => {})
        established.stream.resume()
      },
      () => {
        // Refused by alice: what the test wants.
      },
    )
  }
  server.on('upgrade', (req, duplex) => {
    const socket = duplex as Socket
    sockets.add(socket)
    socket.on('error', () => socket.destroy())
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: p2p-relay\r\nConnection: Upgrade\r\n\r\n')
    const path = req.url ?? ''
    if (path.startsWith('/v1/relay/circuit/')) {
      impersonate(socket, circuits.get(path.slice('/v1/relay/circuit/'.length)) === 'initiate')
      return
    }
    // The control connection: any answer to the challenge will do.
    const reader = new RelayLineReader()
    socket.write(encodeRelayFrame({ t: 'challenge', nonce: '00'.repeat(32) }))
    socket.on('data', (chunk: Buffer) => {
      for (const line of reader.push(chunk) as string[]) {
        const frame = decodeRelayLine(RelayClientFrameSchema, line)
        if (frame?.t === 'auth') socket.write(encodeRelayFrame({ t: 'ready', userId: frame.userId }))
        else if (frame?.t === 'dial') {
          // Alice asked for bob: her circuit ends at the impostor, and "bob" calls her too.
          const token = `dial-${circuits.size}-xxxxxxxxxxxxxxx`
          circuits.set(token, 'respond')
          socket.write(encodeRelayFrame({ t: 'dial_ok', id: frame.id, token }))
          const back = `back-${circuits.size}-xxxxxxxxxxxxxxx`
          circuits.set(back, 'initiate')
          socket.write(encodeRelayFrame({ t: 'incoming', from: 'bob', fromKey: toHex(impostor.publicKey), token: back }))
        }
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    impostorLines,
    handshakes,
    close: () => {
      server.close()
      for (const s of sockets) s.destroy()
    },
  }
}

describe('a lying relay', () => {
  let server: ServerProcess
  let liar: Liar
  let alice: DaemonProcess
  let bob: DaemonProcess
  beforeAll(async () => {
    server = await startServerProcess({ ttl: 5 })
    liar = await lyingRelay(server.port)
    // Bob is honest and on the real server; alice's relay is the liar. Neither takes direct links.
    ;[alice, bob] = await Promise.all([
      startDaemonProcess({ userId: 'alice', serverUrl: liar.url, args: ['--listen', 'off'] }),
      startDaemonProcess({ userId: 'bob', serverUrl: server.url, args: ['--listen', 'off'] }),
    ])
    await eventually(async () => (await status(alice)).relay?.connected && (await status(bob)).server.registered)
  })
  afterAll(async () => {
    await Promise.all([alice?.stop(), bob?.stop()])
    liar?.close()
    await server?.stop()
  })

  it('gets the link refused both ways: alice checks the key on the circuits she dials and on those she answers', async () => {
    const sent = await alice.rpc('send', { to: 'bob', text: 'for bob only', timeout: 3 })
    expect(sent.status).toBe('queued')
    const log = () => readFileSync(join(alice.home, 'daemon.log'), 'utf8')
    // As the dialer: the Noise handshake completes with the impostor's key, which alice refuses.
    await eventually(() => log().includes('peer presented an unexpected key'))
    // As the dialed: "bob" says hello with a key that is neither pinned nor bound to bob.
    await eventually(() => /"code":"impostor".*refused incoming link/.test(log()))
    expect(liar.handshakes.asResponder).toBe(0)
    const peers = await alice.rpc('peers')
    expect(peers.find((p) => p.userId === 'bob')?.connected).toBe(false)
    expect((await status(alice)).outbox.queued).toBe(1)
    expect(liar.impostorLines.join('')).not.toContain('for bob only')
    expect(await bob.rpc('history', { peer: 'alice' })).toEqual([])
  })
})
