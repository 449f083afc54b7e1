import { connect, type Socket } from 'node:net'
import { beforeAll, describe, expect, it } from 'vitest'
import { type PeerList, signRegister } from '../../src/protocol/discovery.js'
import { generateIdentity } from '../../src/protocol/identity.js'
import { MAX_CONTROL_LINE_BYTES, MAX_PEER_FRAME_BYTES } from '../../src/protocol/limits.js'
import { status } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'
import { connectRawPeer } from '../helpers/raw-peer.js'
import { restartServerProcess } from '../helpers/server.js'

function openSocket(
  options: { port: number } | { path: string },
): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = 'path' in options ? connect(options.path) : connect({ host: '127.0.0.1', port: options.port })
    let data = ''
    const closed = new Promise<void>((r) => socket.on('close', () => r()))
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (data += chunk))
    socket.on('error', () => undefined)
    socket.once('connect', () => resolve({ socket, received: () => data, closed }))
    socket.once('error', reject)
  })
}

describe('a daemon under bad input and a flaky discovery server', () => {
  const net = useNetwork(['alice', 'bob'], { ttl: 2, env: { P2P_HANDSHAKE_TIMEOUT_MS: '1000', P2P_PEER_RATE: '200' } })

  beforeAll(async () => {
    expect((await net.alice.rpc('send', { to: 'bob', text: 'hello' })).status).toBe('delivered')
  })

  it('garbage on the peer port is dropped and the daemon keeps serving', async () => {
    const garbage = await openSocket({ port: net.bob.port })
    garbage.socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n\u0000\u0001\u0002 not noise at all'))
    await garbage.closed
    expect((await net.alice.rpc('send', { to: 'bob', text: 'after garbage' })).status).toBe('delivered')
  })

  it('a half-open connection that never speaks is closed after the handshake timeout', async () => {
    const silent = await openSocket({ port: net.bob.port })
    await silent.closed
    expect(silent.received()).toBe('')
    expect((await net.alice.rpc('send', { to: 'bob', text: 'after silence' })).status).toBe('delivered')
  })

  it('an oversized message is refused with a nack on a link that stays up; an endless frame closes only that link', async () => {
    // A real user of the discovery server, driven by hand.
    const dave = generateIdentity()
    const registered = await fetch(`${net.server.url}/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(signRegister(dave, { userId: 'dave', port: 9, ts: Date.now() })),
    })
    expect(registered.status).toBe(200)
    const peer = await connectRawPeer({ port: net.bob.port, userId: 'dave', identity: dave })
    const frame = (f: object) => `${JSON.stringify(f)}\n`
    peer.write(frame({ t: 'msg', id: 'too-big-0001', text: 'x'.repeat(64 * 1024 + 1), at: Date.now() }))
    peer.write('{"t":"msg", not json\n')
    peer.write(frame({ t: 'msg', id: 'fine-000001', text: 'small and fine', at: Date.now() }))
    await eventually(() => peer.lines.some((l) => l.includes('fine-000001')))
    const replies = peer.lines.map((l) => JSON.parse(l))
    expect(replies.find((r) => r.id === 'too-big-0001')).toMatchObject({ t: 'nack' })
    expect(replies.find((r) => r.id === 'fine-000001')).toMatchObject({ t: 'ack' })
    expect(peer.isClosed()).toBe(false)

    peer.write(Buffer.alloc(MAX_PEER_FRAME_BYTES + 1024, 'y'))
    await peer.closed
    expect((await net.alice.rpc('send', { to: 'bob', text: 'after the endless frame' })).status).toBe('delivered')
    const history = await net.bob.rpc('history', { peer: 'dave' })
    expect(history.map((m) => m.text)).toEqual(['small and fine'])
  })

  it('a flooding peer is slowed down, not dropped: every message is stored and acked once', async () => {
    const erin = generateIdentity()
    const body = JSON.stringify(signRegister(erin, { userId: 'erin', port: 9, ts: Date.now() }))
    expect(
      (await fetch(`${net.server.url}/v1/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status,
    ).toBe(200)
    const peer = await connectRawPeer({ port: net.bob.port, userId: 'erin', identity: erin })
    const ids = Array.from({ length: 800 }, (_, i) => `flood-${String(i).padStart(6, '0')}`)
    peer.write(`${ids.map((id) => JSON.stringify({ t: 'msg', id, text: id, at: Date.now() })).join('\n')}\n`)
    await eventually(() => peer.lines.filter((l) => l.includes('"ack"')).length === ids.length, { timeout: 20_000 })
    const history = await net.bob.rpc('history', { peer: 'erin', limit: 1000 })
    expect(history.map((m) => m.text)).toEqual(ids)
    peer.destroy()
  })

  it('control socket: bad JSON and unknown methods get JSON-RPC errors on a connection that stays usable; an endless line closes it', async () => {
    const client = await openSocket({ path: net.bob.socket })
    client.socket.write('this is not json\n')
    client.socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'no-such-method' })}\n`)
    client.socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'send', params: { to: 'alice' } })}\n`)
    client.socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'status' })}\n`)
    const lines = await eventually(() => {
      const l = client.received().split('\n').filter(Boolean)
      return l.length >= 4 ? l.map((x) => JSON.parse(x)) : undefined
    })
    expect(lines[0].error.code).toBe(-32700)
    expect(lines.find((l) => l.id === 7).error.code).toBe(-32601)
    expect(lines.find((l) => l.id === 8).error.code).toBe(-32602)
    expect(lines.find((l) => l.id === 9).result.userId).toBe('bob')

    // A request whose bytes arrive in two reads, split inside a character.
    const request = Buffer.from(
      `${JSON.stringify({ jsonrpc: '2.0', id: 10, method: 'send', params: { to: 'alice', text: 'héllo wörld ☃' } })}\n`,
    )
    const cut = request.indexOf(Buffer.from('é')) + 1
    client.socket.write(request.subarray(0, cut))
    await eventually(async () => (await status(net.bob)).userId === 'bob') // a round trip between the two halves
    client.socket.write(request.subarray(cut))
    await eventually(() => client.received().includes('"id":10'))
    const sent = await net.alice.rpc('history', { peer: 'bob', limit: 1 })
    expect(sent.map((m) => m.text)).toEqual(['héllo wörld ☃'])

    const flood = await openSocket({ path: net.bob.socket })
    flood.socket.write('x'.repeat(MAX_CONTROL_LINE_BYTES + 10))
    await flood.closed
    expect(flood.received()).toMatch(/too_large|over/)

    // A client that connects and never sends does not hold anyone up.
    const idle = await openSocket({ path: net.bob.socket })
    expect((await status(net.bob)).userId).toBe('bob')
    idle.socket.destroy()
    client.socket.destroy()
  })

  it('daemons register again by themselves after the discovery server restarts', async () => {
    const port = net.server.port
    await net.server.stop()
    await eventually(async () => (await status(net.alice)).server.registered === false, { timeout: 15_000 })
    // Messages between peers that know each other still flow while the server is down.
    expect((await net.alice.rpc('send', { to: 'bob', text: 'server is down' })).status).toBe('delivered')
    net.server = await restartServerProcess(port, { ttl: 2 })
    await eventually(async () => (await status(net.alice)).server.registered && (await status(net.bob)).server.registered, {
      timeout: 20_000,
    })
    const peers = (await (await fetch(`${net.server.url}/v1/peers`)).json()) as PeerList
    expect(peers.peers.map((p) => p.userId).sort()).toEqual(['alice', 'bob'])
  })
})
