/**
 * An acknowledgement must survive a power loss: the receiver acks a message only after the fsync
 * that covers its commit. Checked on the receiving daemon's own system calls, traced with strace:
 * every write to the peer link comes after the WAL writes before it were fdatasync'd.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DaemonProcess, eventually, startDaemonProcess, status, tempHome } from '../helpers/daemon.js'
import { type ServerProcess, startServerProcess } from '../helpers/server.js'

const hasStrace = spawnSync('strace', ['-V']).status === 0
const MESSAGES = 20

interface TraceCheck {
  /** Writes to the peer link that came after a WAL write not yet synced. */
  early: string[]
  /** Writes to the peer link that came after WAL writes, all synced. */
  covered: number
  walWrites: number
  syncs: number
}

/**
 * Reads an `strace -f -y -yy` log in order. `peerPort` is the receiver's peer port: its link to
 * the sender is the TCP socket with that local port. A sync covers the WAL writes made before it
 * started, and counts once it returned.
 */
export function checkAckOrder(trace: string, peerPort: number): TraceCheck {
  const result: TraceCheck = { early: [], covered: 0, walWrites: 0, syncs: 0 }
  let written = 0 // WAL writes so far
  let durable = 0 // WAL writes covered by a finished sync
  let dirtySinceLastPeerWrite = false
  const syncStarts = new Map<string, number>() // pid -> WAL writes when its unfinished sync started
  // TCP:[127.0.0.1:PORT->...] or TCPv6:[[::ffff:127.0.0.1]:PORT->...]
  const peerSocket = new RegExp(`TCP(?:v6)?:\\[(?:\\[[^\\]]*\\]|[^\\]:]*):${peerPort}->`)
  for (const line of trace.split('\n')) {
    const pid = line.split(' ', 1)[0] ?? ''
    if (/ (fdatasync|fsync)\(\d+<[^>]*p2p\.db-wal>/.test(line)) {
      if (line.includes('<unfinished ...>')) syncStarts.set(pid, written)
      else if (/= 0$/.test(line)) {
        durable = Math.max(durable, written)
        result.syncs++
      }
    } else if (/<\.\.\. (fdatasync|fsync) resumed>.*= 0$/.test(line)) {
      durable = Math.max(durable, syncStarts.get(pid) ?? 0)
      syncStarts.delete(pid)
      result.syncs++
    } else if (/ pwrite(64|v)?\(\d+<[^>]*p2p\.db-wal>/.test(line)) {
      written++
      result.walWrites++
      dirtySinceLastPeerWrite = true
    } else if (/ (write|writev)\(\d+<[^>]*>/.test(line) && peerSocket.test(line)) {
      if (durable < written) result.early.push(line)
      else if (dirtySinceLastPeerWrite) result.covered++
      dirtySinceLastPeerWrite = false
    }
  }
  return result
}

describe.skipIf(!hasStrace)('acknowledgements and fsync', () => {
  let server: ServerProcess
  let alice: DaemonProcess
  let bob: DaemonProcess
  const traceFile = join(tempHome('p2p-strace-'), 'bob.trace')
  // No pings: a pong is not an ack, and this test reads every write on the link as one.
  const env = { P2P_PING_INTERVAL_MS: '600000' }

  beforeAll(async () => {
    server = await startServerProcess()
    bob = await startDaemonProcess({
      userId: 'bob',
      serverUrl: server.url,
      env,
      wrap: ['strace', '-f', '-qq', '-y', '-yy', '-s', '0', '-o', traceFile, '-e', 'trace=write,writev,pwrite64,pwritev,fdatasync,fsync'],
    })
    alice = await startDaemonProcess({ userId: 'alice', serverUrl: server.url, env })
    for (const d of [alice, bob]) await eventually(async () => (await status(d)).server.registered)
  })

  afterAll(async () => {
    await alice?.stop()
    // SIGTERM to strace would detach it and leave the daemon running: stop the daemon itself.
    if (bob) {
      await bob.rpc('shutdown').catch(() => undefined)
      await eventually(() => bob.child.exitCode !== null || bob.child.signalCode !== null, { timeout: 20_000 })
    }
    await server?.stop()
  })

  it('bob acks each message only after the fdatasync that covers its commit', async () => {
    // The link's set-up (the Noise handshake, the hellos) writes to it too, and may follow writes
    // of bob's that no ack depends on (a pinned key, the peer's address). One message first: once
    // its ack is in the trace, everything bob wrote before it is on disk (its fsync covered all of
    // it), and from there on every write on the link is an ack.
    expect((await alice.rpc('send', { to: 'bob', text: 'link up' })).status).toBe('delivered')
    const from = await eventually(() => {
      const trace = readFileSync(traceFile, 'utf8')
      return checkAckOrder(trace, bob.port).covered >= 1 ? trace.lastIndexOf('\n') + 1 : undefined
    })
    for (let i = 0; i < MESSAGES; i++) {
      expect((await alice.rpc('send', { to: 'bob', text: `durable ${i}` })).status).toBe('delivered')
    }
    expect((await bob.rpc('history', { peer: 'alice' })).map((m) => m.text)).toEqual([
      'link up',
      ...Array.from({ length: MESSAGES }, (_, i) => `durable ${i}`),
    ])
    const check = await eventually(() => {
      const c = checkAckOrder(readFileSync(traceFile, 'utf8').slice(from), bob.port)
      return c.covered >= MESSAGES ? c : undefined
    })
    expect(check.early, check.early.slice(0, 3).join('\n')).toEqual([])
    expect(check.walWrites).toBeGreaterThanOrEqual(MESSAGES)
    expect(check.syncs).toBeGreaterThanOrEqual(MESSAGES)
  })
})
