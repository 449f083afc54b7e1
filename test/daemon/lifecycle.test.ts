import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { socketPathFor } from '../../src/protocol/profile.js'
import { startDaemonProcess, status, tempHome } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'
import { connectRawPeer } from '../helpers/raw-peer.js'

describe('daemon lifecycle', () => {
  const net = useNetwork([], { ttl: 5 })

  it('keeps the profile private, replaces a dead daemon’s socket, and never steals a live one', async () => {
    const first = await startDaemonProcess({ userId: 'alice', serverUrl: net.server.url })
    expect(statSync(first.home).mode & 0o777).toBe(0o700)
    expect(statSync(first.socket).mode & 0o777).toBe(0o600)
    expect(statSync(join(first.home, 'identity.key')).mode & 0o777).toBe(0o600)

    await expect(startDaemonProcess({ home: first.home, serverUrl: net.server.url })).rejects.toThrow(/already running/)
    expect((await status(first)).userId).toBe('alice')

    await first.kill()
    expect(existsSync(first.socket)).toBe(true)
    const second = await startDaemonProcess({ home: first.home, serverUrl: net.server.url })
    const s = await status(second)
    expect(s.userId).toBe('alice')
    expect(s.pid).toBe(second.child.pid)
    expect((await fetch(`${net.server.url}/v1/peers/alice`)).status).toBe(200)
    expect(await second.stop()).toBe(0)
    expect(existsSync(second.socket)).toBe(false)
    // A clean stop unregisters: the server says at once that alice is offline.
    expect((await fetch(`${net.server.url}/v1/peers/alice`)).status).toBe(404)
  })

  it('works from a profile whose path is too long for a Unix socket, in a fallback directory made private', async () => {
    const deep = join(tempHome(), 'a'.repeat(60), 'b'.repeat(60))
    mkdirSync(deep, { recursive: true })
    const runtime = tempHome('p2p-run-')
    const env = { XDG_RUNTIME_DIR: runtime }
    // Someone left the fallback directory open to everybody: the daemon closes it.
    const fallback = dirname(socketPathFor(deep, env))
    mkdirSync(fallback, { mode: 0o777 })
    chmodSync(fallback, 0o777)
    const daemon = await startDaemonProcess({ userId: 'deep', home: deep, serverUrl: net.server.url, env })
    expect(daemon.socket.startsWith(runtime)).toBe(true)
    expect(statSync(fallback).mode & 0o777).toBe(0o700)
    expect((await status(daemon)).home).toBe(deep)
    expect(await daemon.stop()).toBe(0)
  })

  it('marks messages failed once they outlive the outbox lifetime', async () => {
    const env = { P2P_OUTBOX_LIFETIME_S: '1' }
    const carol = await startDaemonProcess({ userId: 'carol', serverUrl: net.server.url, env })
    const dave = await startDaemonProcess({ userId: 'dave', serverUrl: net.server.url })
    await eventually(async () => (await status(carol)).server.registered && (await status(dave)).server.registered)
    expect((await carol.rpc('send', { to: 'dave', text: 'first contact' })).status).toBe('delivered')
    await dave.stop()
    expect((await carol.rpc('send', { to: 'dave', text: 'too late', timeout: 1 })).status).toBe('queued')
    await eventually(async () => (await status(carol)).outbox.failed === 1, { timeout: 10_000 })
    const history = await carol.rpc('history', { peer: 'dave' })
    expect(history.find((m) => m.text === 'too late')?.status).toBe('failed')
    expect((await status(carol)).outbox.queued).toBe(0)
    await carol.stop()
  })
})

describe('a daemon whose discovery server never answers', () => {
  it('survives a peer that resets its connection while the daemon is still checking who it is', async () => {
    // A discovery server that accepts connections and never answers: every lookup hangs.
    const blackHole = createServer(() => {})
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve))
    const port = (blackHole.address() as AddressInfo).port
    const carol = await startDaemonProcess({ userId: 'carol', serverUrl: `http://127.0.0.1:${port}` })
    try {
      const logged = (pattern: RegExp) => (readFileSync(join(carol.home, 'daemon.log'), 'utf8').match(pattern) ?? []).length
      for (let i = 1; i <= 3; i++) {
        const peer = await connectRawPeer({ port: carol.port, userId: 'mallory' })
        // Reset exactly while the daemon waits for the server to vouch for mallory's key.
        await eventually(() => logged(/incoming link: checking its key/g) === i)
        peer.reset()
      }
      // Each lookup times out and the link is refused; the daemon is still there to say so.
      await eventually(() => logged(/refused incoming link/g) === 3, { timeout: 30_000 })
      expect((await status(carol)).userId).toBe('carol')
      expect(carol.output()).not.toMatch(/uncaught/)
    } finally {
      await carol.stop()
      blackHole.close()
    }
  })
})
