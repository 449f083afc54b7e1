/**
 * Relay circuits across instances on one Redis (issue 12, point 3): real instances in this
 * process on a real redis-server, driven with the daemon's own relay client. The circuit meets on
 * the dialed daemon's instance; the dialer is sent there by `dial_ok.url`.
 */
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openCircuit, RelayControl, RelayError } from '../../src/daemon/relay-client.js'
import { decodeHome, encodeHome } from '../../src/server/relay/relay-home.js'
import type { RelayLimits } from '../../src/server/relay/relay-limits.js'
import { eventually } from '../helpers/eventually.js'
import { type RedisProcess, startRedis } from '../helpers/redis.js'
import { makeUser, registerBody, request, startTestServer, type TestServer } from './support.js'

const T = 10_000
const never = new AbortController().signal
let redis: RedisProcess
let servers: TestServer[] = []
const opened: Array<{ destroy(): void } | { close(): void }> = []

beforeAll(async () => {
  redis = await startRedis()
})
afterAll(() => redis?.dispose())
afterEach(async () => {
  for (const o of opened.splice(0)) 'destroy' in o ? o.destroy() : o.close()
  await Promise.all(servers.map((s) => s.close()))
  servers = []
  redis.cli('flushall')
})

/** An instance on the shared Redis; `relayUrl: false` starts one without --relay-url. */
async function instance(options: { relayUrl?: false; limits?: Partial<RelayLimits> } = {}): Promise<TestServer> {
  const server = await startTestServer('memory', {
    redisUrl: redis.url,
    ...(options.relayUrl === false ? {} : { relayUrl: 'http://127.0.0.1:0' }),
    relay: options.limits ?? {},
  })
  servers.push(server)
  return server
}

const users = new Map<string, ReturnType<typeof makeUser>>()

/** `name`'s relay control connection on `server` (registered first, once per test). */
async function online(server: TestServer, name: string): Promise<RelayControl> {
  let user = users.get(name)
  if (!user) {
    user = makeUser(name)
    users.set(name, user)
    expect((await request(server.url, 'POST', '/v1/register', registerBody(user))).status).toBe(200)
  }
  const control = await RelayControl.connect({ serverUrl: server.url, identity: user.identity, userId: name, signal: never, timeoutMs: T })
  opened.push(control)
  return control
}

afterEach(() => users.clear())

async function refusal(promise: Promise<unknown>): Promise<RelayError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(RelayError)
  return error as RelayError
}

const logged = (server: TestServer, msg: string) => server.logs.filter((l) => l.msg === msg)
const home = (userId: string) => decodeHome(redis.cli('get', `p2p:rh:{${userId}}`))

function collect(socket: Socket): { text(): string } {
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  return { text: () => Buffer.concat(chunks).toString() }
}

describe('relay circuits across instances on one Redis', () => {
  it('alice on A dials bob on B: the circuit meets on B, bytes cross both ways, A splices nothing', async () => {
    const [a, b] = await Promise.all([instance(), instance()])
    const alice = await online(a, 'alice')
    const bob = await online(b, 'bob')
    await eventually(() => expect(home('bob')?.url).toBe(b.url))

    const incoming = once(bob, 'incoming')
    const granted = await alice.dial('bob', never)
    expect(granted.url).toBe(b.url)
    const [{ token: theirs, from, url }] = (await incoming) as [{ token: string; from: string; url?: string }]
    expect(from).toBe('alice')
    expect(url).toBe(b.url)
    const [atAlice, atBob] = await Promise.all([openCircuit(granted.url!, granted.token, never, T), openCircuit(b.url, theirs, never, T)])
    opened.push(atAlice, atBob)
    const toBob = collect(atBob)
    const toAlice = collect(atAlice)
    atAlice.write('from alice, via A')
    atBob.write('from bob, on B')
    await eventually(() => expect(toBob.text()).toBe('from alice, via A'))
    await eventually(() => expect(toAlice.text()).toBe('from bob, on B'))

    expect(logged(b, 'relay: circuit spliced')).toHaveLength(1)
    expect(logged(a, 'relay: circuit spliced')).toHaveLength(0)
    expect(logged(a, 'relay: pairing forwarded')).toHaveLength(1)
    expect(logged(b, 'relay: hosting a circuit for another instance')).toHaveLength(1)
  })

  it('two daemons on one instance: dial_ok and incoming name its own address (right even behind a balancer)', async () => {
    const [a] = await Promise.all([instance(), instance()])
    const alice = await online(a, 'alice')
    const bob = await online(a, 'bob')
    const incoming = once(bob, 'incoming')
    const granted = await alice.dial('bob', never)
    const [theirs] = (await incoming) as [{ token: string; url?: string }]
    expect([granted.url, theirs.url]).toEqual([a.url, a.url])
    const ends = await Promise.all([openCircuit(granted.url!, granted.token, never, T), openCircuit(theirs.url!, theirs.token, never, T)])
    opened.push(...ends)
    expect(logged(a, 'relay: pairing forwarded')).toHaveLength(0)
    await eventually(() => expect(logged(a, 'relay: circuit spliced')).toHaveLength(1))
  })

  it('the home record is the newest session: an older one closing elsewhere does not erase it', async () => {
    const [a, b] = await Promise.all([instance(), instance()])
    const onB = await online(b, 'bob')
    await eventually(() => expect(home('bob')?.url).toBe(b.url))
    const onA = await online(a, 'bob')
    await eventually(() => expect(home('bob')?.url).toBe(a.url))
    onB.close()
    await eventually(() => expect(logged(b, 'relay: control connection closed')).toHaveLength(1))
    // B's next write reaches Redis after its delete of bob's record (one connection, in order).
    await online(b, 'carol')
    await eventually(() => expect(home('carol')?.url).toBe(b.url))
    expect(home('bob')?.url).toBe(a.url)
    onA.close()
    await eventually(() => expect(redis.cli('exists', 'p2p:rh:{bob}')).toBe('0'))
  })

  it('a stale home (its instance gone) fails the dial at once with peer_unreachable', async () => {
    const a = await instance()
    const alice = await online(a, 'alice')
    const b = await instance()
    await online(b, 'bob')
    await eventually(() => expect(home('bob')).toBeDefined())
    // As an instance killed outright leaves it: a record naming an instance nobody listens for.
    redis.cli('set', 'p2p:rh:{bob}', encodeHome({ instance: 'gone-instance-1234', url: 'http://127.0.0.1:9', session: 's1' }))
    const error = await refusal(alice.dial('bob', never))
    expect(error.code).toBe('peer_unreachable')
    expect(error.message).toMatch(/is gone/)
  })

  it('a dial for a user with no relay connection anywhere: peer_unreachable', async () => {
    const a = await instance()
    await instance()
    const alice = await online(a, 'alice')
    const error = await refusal(alice.dial('nobody', never))
    expect(error.code).toBe('peer_unreachable')
    expect(error.message).toMatch(/no relay connection on any instance/)
  })

  it('without --relay-url: circuits across instances are refused, and the message says why', async () => {
    const [plain, b] = await Promise.all([instance({ relayUrl: false }), instance()])
    expect(plain.logs.some((l) => String(l.msg).includes('without --relay-url'))).toBe(true)
    const alice = await online(plain, 'alice')
    await online(b, 'bob')
    const error = await refusal(alice.dial('bob', never))
    expect(error.code).toBe('peer_unreachable')
    expect(error.message).toMatch(/--relay-url/)
  })

  it('limits hold on the hosting instance: circuits per key, and the pairing timeout', async () => {
    const a = await instance()
    const b = await instance({ limits: { maxCircuitsPerKey: 1, pairingTimeoutMs: 500 } })
    const alice = await online(a, 'alice')
    await online(b, 'bob')
    await eventually(() => expect(home('bob')).toBeDefined())
    const granted = await alice.dial('bob', never)
    expect((await refusal(alice.dial('bob', never))).code).toBe('too_many_circuits')
    // Bob never opens his end: alice's, at B, ends with 504 pairing_timeout.
    expect((await refusal(openCircuit(granted.url!, granted.token, never, T))).code).toBe('pairing_timeout')
  })
})
