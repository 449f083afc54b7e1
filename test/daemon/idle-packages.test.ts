/**
 * An idle daemon never loads zod (BENCHMARKS.md, B9): registered, its keep-alives and relay
 * connection running, its mailbox fetched, and asked what the one-shot commands (and `watch`) ask. Its fast
 * checks take all of that; the schemas load the first time a request needs them, and then word
 * the error as they always did. The daemon tells its loaded packages on SIGUSR2 when started with
 * P2P_LOG_PACKAGES=1 (src/daemon/loaded-packages.ts). Nor does it load the Noise library
 * (secret-stream.ts) before its first link.
 */
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { type DaemonProcess, p2p, status } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'

/** The packages of the daemon's newest report: asks for one with SIGUSR2 and waits for it in its output. */
async function loadedPackages(daemon: DaemonProcess): Promise<string[]> {
  const reports = () => daemon.output().match(/^.*"msg":"loaded packages".*$/gm) ?? []
  const before = reports().length
  daemon.child.kill('SIGUSR2')
  const line = await eventually(() => (reports().length > before ? reports().at(-1) : undefined), { timeout: 30_000 })
  return (JSON.parse(line) as { packages: string[] }).packages
}

/** One request line, and the first answer line to it. */
function exchange(socketPath: string, request: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath)
    let received = ''
    socket.setEncoding('utf8')
    socket.on('error', reject)
    socket.on('data', (chunk: string) => {
      received += chunk
      const end = received.indexOf('\n')
      if (end < 0) return
      socket.end()
      resolve(JSON.parse(received.slice(0, end)))
    })
    socket.write(`${request}\n`)
  })
}

/** The server's lastSeen for `userId`: it moves with each keep-alive. */
async function lastSeen(serverUrl: string, userId: string): Promise<string> {
  const response = await fetch(new URL(`/v1/peers/${userId}`, serverUrl))
  return ((await response.json()) as { lastSeen: string }).lastSeen
}

describe('an idle daemon', () => {
  const net = useNetwork(['alice', 'bob'], { env: { P2P_LOG_PACKAGES: '1' } })

  it('loads no zod until a request needs the schemas, which then word the error as before; nor does a link', async () => {
    const alice = net.alice
    await eventually(async () => (await status(alice)).relay?.connected)
    // A keep-alive answered since (the server's lastSeen moves), so its answer was read too.
    const seen = await lastSeen(net.server.url, 'alice')
    await eventually(async () => (await lastSeen(net.server.url, 'alice')) !== seen, { timeout: 30_000 })
    for (const command of [
      ['daemon', 'status'],
      ['daemon', 'status', '--json'],
      ['peers'],
      ['discover'],
      ['history'],
      ['unblock', 'carol'],
    ]) {
      const run = await p2p(command, { home: alice.home })
      expect(run.code, `${command.join(' ')}: ${run.stderr}`).toBe(0)
    }
    // What `p2p watch` asks first.
    expect(await exchange(alice.socket, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscribe', params: {} }))).toMatchObject({
      result: { cursor: expect.any(String) },
    })

    const idle = await loadedPackages(alice)
    // The report is real: it names what the daemon does load.
    expect(idle).toEqual(expect.arrayContaining(['pino', 'xstate', 'better-sqlite3']))
    expect(idle).not.toContain('zod')
    // Nor the Noise library: that comes with the first link.
    expect(idle).not.toContain('@hyperswarm/secret-stream')

    // A link and messages both ways (hello, msg, ack, ping, pong) need no schema either.
    expect((await alice.rpc('send', { to: 'bob', text: 'hi bob', timeout: 30 })).status).toBe('delivered')
    expect((await net.bob.rpc('send', { to: 'alice', text: 'hi alice', timeout: 30 })).status).toBe('delivered')
    for (const daemon of [alice, net.bob]) {
      const linked = await loadedPackages(daemon)
      expect(linked).toContain('@hyperswarm/secret-stream')
      expect(linked).not.toContain('zod')
    }

    // A request the fast check is not sure of: the schemas load, and word the error as always.
    const answer = await exchange(alice.socket, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'status', params: { verbose: 'yes' } }))
    expect(answer).toEqual({
      jsonrpc: '2.0',
      id: 9,
      error: {
        code: -32602,
        message: 'invalid params: verbose: Invalid input: expected boolean, received string',
        data: { code: 'bad_request' },
      },
    })
    expect(await loadedPackages(alice)).toContain('zod')
    expect((await status(alice)).running).toBe(true)
  })
})
