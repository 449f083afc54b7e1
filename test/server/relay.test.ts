/** The relay of the discovery server (SPEC section 9), in-process, driven with the daemon's own relay client. */
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { openCircuit, openUpgrade, RelayControl, RelayError } from '../../src/daemon/relay-client.js'
import { generateIdentity } from '../../src/protocol/identity.js'
import { encodeRelayFrame, RELAY_PATH, RelayLineReader, signRelayChallenge } from '../../src/protocol/relay.js'
import type { RelayLimits } from '../../src/server/relay/relay-limits.js'
import { eventually } from '../helpers/eventually.js'
import { startServerProcess } from '../helpers/server.js'
import { makeUser, registerBody, request, startTestServer, type TestServer, type User } from './support.js'

const T = 10_000
let servers: TestServer[] = []
const opened: Array<{ destroy(): void } | { close(): void }> = []

afterEach(async () => {
  for (const o of opened.splice(0)) 'destroy' in o ? o.destroy() : o.close()
  await Promise.all(servers.map((s) => s.close()))
  servers = []
})

async function relayServer(limits: Partial<RelayLimits> = {}, tap?: (chunk: Buffer) => void): Promise<TestServer> {
  const server = await startTestServer('memory', { relay: limits, ...(tap ? { relayTap: tap } : {}) })
  servers.push(server)
  return server
}

async function online(server: TestServer, name: string): Promise<{ user: User; control: RelayControl }> {
  const user = makeUser(name)
  expect((await request(server.url, 'POST', '/v1/register', registerBody(user))).status).toBe(200)
  const control = await RelayControl.connect({
    serverUrl: server.url,
    identity: user.identity,
    userId: name,
    signal: new AbortController().signal,
    timeoutMs: T,
  })
  opened.push(control)
  return { user, control }
}

const never = new AbortController().signal

/** Alice asks for a circuit to bob; both ends open it. */
async function circuit(server: TestServer, from: RelayControl, to: RelayControl, toId: string): Promise<[Socket, Socket]> {
  const incoming = once(to, 'incoming')
  const { token, url } = await from.dial(toId, never)
  // One instance: the circuit meets where the control connection is, so dial_ok names no other.
  expect(url).toBeUndefined()
  const [{ token: theirs }] = (await incoming) as [{ token: string }]
  const sockets = await Promise.all([openCircuit(server.url, token, never, T), openCircuit(server.url, theirs, never, T)])
  opened.push(...sockets)
  return sockets
}

function collect(socket: Socket): { bytes(): Buffer } {
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  return { bytes: () => Buffer.concat(chunks) }
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(RelayError)
  return (error as RelayError).code
}

describe('relay: control connections', () => {
  it('authenticates a registered daemon by a signature over a fresh challenge', async () => {
    const server = await relayServer()
    const { control } = await online(server, 'alice')
    expect(control.closed).toBe(false)
  })

  it('refuses a signature by another key, an unregistered user, and a replayed answer', async () => {
    const server = await relayServer()
    const alice = makeUser('alice')
    await request(server.url, 'POST', '/v1/register', registerBody(alice))
    const connect = (userId: string, identity = alice.identity) =>
      RelayControl.connect({ serverUrl: server.url, identity, userId, signal: never, timeoutMs: T })
    expect(await refusal(connect('alice', generateIdentity()))).toBe('bad_signature')
    expect(await refusal(connect('nobody'))).toBe('not_found')

    // A recorded answer to one challenge is worth nothing on the next connection.
    const first = await openUpgrade(server.url, RELAY_PATH, never, T)
    const reader = new RelayLineReader()
    const [challenge] = (reader.push((await once(first, 'data'))[0] as Buffer) as string[]).map((l) => JSON.parse(l))
    const answer = signRelayChallenge(alice.identity, 'alice', challenge.nonce)
    first.destroy()
    const second = await openUpgrade(server.url, RELAY_PATH, never, T)
    opened.push(second)
    const lines: string[] = []
    const secondReader = new RelayLineReader()
    second.on('data', (c: Buffer) => lines.push(...(secondReader.push(c) as string[])))
    second.write(encodeRelayFrame(answer))
    await eventually(() => expect(lines.map((l) => JSON.parse(l).t)).toContain('error'))
    expect(JSON.parse(lines.find((l) => l.includes('"error"'))!).code).toBe('bad_signature')
  })

  it('--no-relay: upgrades are refused with relay_disabled', async () => {
    const server = await startServerProcess({ args: ['--no-relay'] })
    try {
      expect(await refusal(openUpgrade(server.url, RELAY_PATH, never, T))).toBe('relay_disabled')
    } finally {
      await server.stop()
    }
  })
})

describe('relay: circuits', () => {
  it('splices two ends and copies bytes both ways, unchanged', async () => {
    const tapped: Buffer[] = []
    const server = await relayServer({}, (c) => tapped.push(c))
    const alice = await online(server, 'alice')
    const bob = await online(server, 'bob')
    const [a, b] = await circuit(server, alice.control, bob.control, 'bob')
    const atB = collect(b)
    const atA = collect(a)
    a.write('from alice')
    b.write('from bob')
    await eventually(() => expect(atB.bytes().toString()).toBe('from alice'))
    await eventually(() => expect(atA.bytes().toString()).toBe('from bob'))
    expect(Buffer.concat(tapped).toString()).toContain('from alice')
  })

  it('tells the dialer when the peer has no relay connection', async () => {
    const server = await relayServer()
    const alice = await online(server, 'alice')
    expect(await refusal(alice.control.dial('bob', never))).toBe('peer_unreachable')
  })

  it('pairing timeout: an end whose peer never comes gets 504 pairing_timeout', async () => {
    const server = await relayServer({ pairingTimeoutMs: 500 })
    const alice = await online(server, 'alice')
    await online(server, 'bob')
    const { token } = await alice.control.dial('bob', never)
    expect(await refusal(openCircuit(server.url, token, never, T))).toBe('pairing_timeout')
  })

  it('circuits per key: one over the limit is refused with too_many_circuits', async () => {
    const server = await relayServer({ maxCircuitsPerKey: 2 })
    const alice = await online(server, 'alice')
    await online(server, 'bob')
    await alice.control.dial('bob', never)
    await alice.control.dial('bob', never)
    expect(await refusal(alice.control.dial('bob', never))).toBe('too_many_circuits')
  })

  it('idle timeout: a silent circuit is closed', async () => {
    const server = await relayServer({ idleTimeoutMs: 300 })
    const alice = await online(server, 'alice')
    const bob = await online(server, 'bob')
    const [a, b] = await circuit(server, alice.control, bob.control, 'bob')
    await Promise.all([once(a, 'close'), once(b, 'close')])
    expect(a.destroyed && b.destroyed).toBe(true)
  })

  it('bytes per second per key: a flood is slowed, never cut, and another circuit goes on meanwhile', async () => {
    const rate = 200_000
    const server = await relayServer({ bytesPerSecondPerKey: rate })
    const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((n) => online(server, n)))
    const [a, b] = await circuit(server, alice!.control, bob!.control, 'bob')
    const [c, d] = await circuit(server, carol!.control, dave!.control, 'dave')
    const flood = Buffer.alloc(rate * 4 + rate * 2, 7) // the burst (4 s worth) and 2 s more
    const atB = collect(b)
    const started = Date.now()
    a.write(flood)
    // While alice's bytes are held back, carol's go through.
    d.on('data', (chunk: Buffer) => d.write(chunk))
    const echoed = collect(c)
    c.write('ping through another circuit')
    await eventually(() => expect(echoed.bytes().toString()).toBe('ping through another circuit'), { timeout: T })
    expect(atB.bytes().length).toBeLessThan(flood.length)
    await eventually(() => expect(atB.bytes().length).toBe(flood.length), { timeout: 30_000 })
    expect(atB.bytes().equals(flood)).toBe(true)
    // Lower bound only: the extra 2 s worth had to wait for the bucket.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500)
  }, 40_000)

  it('a circuit whose reader stalls holds up no other circuit', async () => {
    const server = await relayServer({ bytesPerSecondPerKey: null })
    const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((n) => online(server, n)))
    const [a, b] = await circuit(server, alice!.control, bob!.control, 'bob')
    const [c, d] = await circuit(server, carol!.control, dave!.control, 'dave')
    b.pause()
    // Far more than the kernel's buffers and the relay's high-water marks hold.
    a.write(Buffer.alloc(32 * 1024 * 1024, 1))
    d.on('data', (x: Buffer) => d.write(x))
    const echoed = collect(c)
    c.write('still flowing')
    await eventually(() => expect(echoed.bytes().toString()).toBe('still flowing'), { timeout: T })
    // The relay stopped reading from alice: most of her bytes still wait on her side.
    expect(a.writableLength).toBeGreaterThan(16 * 1024 * 1024)
  })
})

describe('relay: connection limits', () => {
  it('per source address: too_many_connections (429); in all: relay_full (503)', async () => {
    const perAddress = await relayServer({ maxConnectionsPerAddress: 2 })
    await online(perAddress, 'alice')
    await online(perAddress, 'bob')
    expect(await refusal(openUpgrade(perAddress.url, RELAY_PATH, never, T))).toBe('too_many_connections')

    const total = await relayServer({ maxConnections: 1 })
    await online(total, 'carol')
    expect(await refusal(openUpgrade(total.url, RELAY_PATH, never, T))).toBe('relay_full')
  })
})
