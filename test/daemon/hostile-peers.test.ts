import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LineSplitter } from '../../src/daemon/line-splitter.js'
import { status } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'
import { connectRawPeer, openNoiseStream, openSocket, type RawPeer, registerRawUser } from '../helpers/raw-peer.js'

/** Resident memory of a process, in bytes (Linux). */
function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Number(kb) * 1024
}

/** Writes `data` from `make` as fast as the connection takes it, until it closes. */
async function flood(peer: Pick<RawPeer, 'write' | 'drained' | 'isClosed'>, make: () => Buffer | string): Promise<void> {
  while (!peer.isClosed()) if (!peer.write(make())) await peer.drained()
}

describe('a daemon facing hostile peers', () => {
  // A long handshake timeout: in these tests only the caps may close a connection before its hello.
  const net = useNetwork(['alice', 'bob'], { env: { P2P_HANDSHAKE_TIMEOUT_MS: '120000' } })
  const bobAnswers = async () => {
    expect((await status(net.bob)).userId).toBe('bob')
    expect((await net.alice.rpc('send', { to: 'bob', text: 'still there?' })).status).toBe('delivered')
  }

  it('a hello dripped a byte per Noise message is cut off at the pre-authentication budget, and status answers meanwhile', async () => {
    const stream = await openNoiseStream(net.bob.port)
    let closed = false
    const closing = new Promise<void>((resolve) => stream.once('close', () => resolve())).then(() => (closed = true))
    const hello = Buffer.from(`{"t":"hello","userId":"mallory","v":1,"pad":"${'x'.repeat(380 * 1024)}"}`)
    let sent = 0
    const drip = (async () => {
      while (!closed && sent < hello.length) {
        if (!stream.write(hello.subarray(sent, sent + 1))) await Promise.race([new Promise((r) => stream.once('drain', r)), closing])
        sent++
      }
    })()
    await eventually(() => sent > 1000)
    expect((await status(net.bob)).userId).toBe('bob')
    await closing
    await drip
    expect(sent).toBeLessThan(hello.length)
    await bobAnswers()
  })

  it('a hello over 4 KiB is refused before its end', async () => {
    const stream = await openNoiseStream(net.bob.port)
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()))
    for (let i = 0; i < 80; i++) stream.write(Buffer.alloc(100, 'x'))
    await closed
    await bobAnswers()
  })

  it('a connection announcing a huge first Noise message is closed at once, not when the handshake times out', async () => {
    const sockets = await Promise.all(Array.from({ length: 8 }, () => openSocket(net.bob.port)))
    const closed = sockets.map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())))
    for (const socket of sockets) {
      socket.on('error', () => {})
      socket.write(Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), Buffer.alloc(1000, 7)]))
    }
    await Promise.all(closed)
    await bobAnswers()
  })

  it('a peer whose first message follows its hello in the same read is not taken for one over the budget', async () => {
    const identity = await registerRawUser(net.server.url, 'eager')
    const stream = await openNoiseStream(net.bob.port, identity)
    const splitter = new LineSplitter(1024 * 1024)
    const lines: string[] = []
    stream.on('data', (chunk: Buffer) => lines.push(...(splitter.push(chunk) as string[])))
    // One write: the hello and a message of 64 KiB, so that bob most likely reads them together.
    const big = { t: 'msg', id: 'eager-000001', text: 'x'.repeat(64 * 1024), at: Date.now() }
    stream.write(Buffer.from(`{"t":"hello","userId":"eager","v":1}\n${JSON.stringify(big)}\n`))
    await eventually(() => lines.some((l) => l.includes('eager-000001')))
    expect(JSON.parse(lines.find((l) => l.includes('eager-000001')) as string)).toMatchObject({ t: 'ack' })
    stream.destroy()
  })

  it('a peer that floods pings and never reads the pongs is stopped and dropped, in bounded memory', async () => {
    const identity = await registerRawUser(net.server.url, 'pinger')
    const peer = await connectRawPeer({ port: net.bob.port, userId: 'pinger', identity })
    peer.stopReading()
    const pid = net.bob.child.pid as number
    const before = rssOf(pid)
    let peak = before
    const pings = Buffer.from('{"t":"ping"}\n'.repeat(5000))
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50)
    try {
      await Promise.all([flood(peer, () => pings), peer.closed])
    } finally {
      clearInterval(sampler)
    }
    expect(peak - before).toBeLessThan(100 * 1024 * 1024)
    await bobAnswers()
  })

  it('a peer sending 10,000 invalid frames gets a few log lines and its link closed', async () => {
    const identity = await registerRawUser(net.server.url, 'garbler')
    const peer = await connectRawPeer({ port: net.bob.port, userId: 'garbler', identity })
    const frames = Array.from({ length: 10_000 }, (_, i) =>
      i % 2 ? 'not json at all\n' : `${JSON.stringify({ t: 'msg', id: `garbage-${String(i).padStart(5, '0')}`, text: '', at: 1 })}\n`,
    )
    peer.write(frames.join(''))
    await peer.closed
    await bobAnswers()
    const lines = readFileSync(join(net.bob.home, 'daemon.log'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('garbler'))
    expect(lines.length, lines.join('\n')).toBeLessThanOrEqual(20)
    expect(
      lines.some((line) => line.includes('too many invalid frames')),
      lines.join('\n'),
    ).toBe(true)
  })

  it('an authenticated peer announcing a Noise message over 1 MiB is cut off before it is buffered', async () => {
    const identity = await registerRawUser(net.server.url, 'bigmouth')
    const peer = await connectRawPeer({ port: net.bob.port, userId: 'bigmouth', identity })
    // One write is one Noise message; the library on its own would buffer up to 16 MiB of it.
    peer.write(Buffer.alloc(3 * 1024 * 1024, 0x20))
    await peer.closed
    await bobAnswers()
    const log = readFileSync(join(net.bob.home, 'daemon.log'), 'utf8')
    expect(log).toMatch(/Noise message over 1048576 bytes/)
  })

  it('a message that is not valid UTF-8 is nacked and not stored, on a link that stays up', async () => {
    const identity = await registerRawUser(net.server.url, 'latin')
    const peer = await connectRawPeer({ port: net.bob.port, userId: 'latin', identity })
    peer.write(
      Buffer.concat([
        Buffer.from('{"t":"msg","id":"badutf8-0001","text":"caf'),
        Buffer.from([0xe9, 0xff]),
        Buffer.from(`","at":${Date.now()}}\n`),
      ]),
    )
    peer.write(`${JSON.stringify({ t: 'msg', id: 'goodutf8-001', text: 'café', at: Date.now() })}\n`)
    await eventually(() => peer.lines.some((l) => l.includes('goodutf8-001')))
    const replies = peer.lines.map((l) => JSON.parse(l))
    expect(replies.find((r) => r.id === 'badutf8-0001')).toMatchObject({ t: 'nack', code: 'invalid_utf8' })
    expect(replies.find((r) => r.id === 'goodutf8-001')).toMatchObject({ t: 'ack' })
    expect(peer.isClosed()).toBe(false)
    const history = await net.bob.rpc('history', { peer: 'latin' })
    expect(history.map((m) => m.text)).toEqual(['café'])
    peer.destroy()
  })
})
