import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { assign, createActor, fromPromise, SimulatedClock, setup } from 'xstate'
import { type DiscoveryApi, discoveryMachine, discoveryMachineFor, keepaliveInterval } from '../../src/daemon/discovery.machine.js'
import { DiscoveryClient, DiscoveryError } from '../../src/daemon/discovery-client.js'
import { type KeepaliveReport, keepaliveMachine, type Lease } from '../../src/daemon/keepalive.machine.js'
import { generateIdentity } from '../../src/protocol/identity.js'

/** Lets pending promise callbacks (the fake API's answers) run. */
const settle = () => new Promise((r) => setImmediate(r))

function fakeApi() {
  const calls: string[] = []
  const failures: Partial<Record<keyof DiscoveryApi, unknown[]>> = {}
  const lease = () => ({ expiresAt: new Date(Date.now() + 30_000).toISOString() })
  const answer = (name: keyof DiscoveryApi) => {
    calls.push(name)
    const failure = failures[name]?.shift()
    return failure ? Promise.reject(failure) : Promise.resolve(lease())
  }
  const api: DiscoveryApi = {
    register: () => answer('register'),
    keepalive: () => answer('keepalive'),
    unregister: () => answer('unregister').then(() => undefined),
  }
  const failOnce = (name: keyof DiscoveryApi, error: unknown) => {
    failures[name] = [...(failures[name] ?? []), error]
  }
  return { api, calls, failOnce }
}

function start(api: DiscoveryApi) {
  const clock = new SimulatedClock()
  const actor = createActor(discoveryMachineFor(api), { clock, input: { backoff: { baseMs: 1000, maxMs: 1000 } } })
  actor.start()
  return { actor, clock }
}

describe('discovery machine', () => {
  it('registers, then keeps the lease alive every third of its ttl', async () => {
    const { api, calls } = fakeApi()
    const { actor, clock } = start(api)
    await settle()
    expect(actor.getSnapshot().value).toBe('registered')
    expect(actor.getSnapshot().context.registered).toBe(true)
    clock.increment(9_000)
    await settle()
    expect(calls).toEqual(['register'])
    clock.increment(1_100)
    await settle()
    expect(calls).toEqual(['register', 'keepalive'])
    expect(actor.getSnapshot().value).toBe('registered')
  })

  it('registers again by itself when the lease is gone (404)', async () => {
    const { api, calls, failOnce } = fakeApi()
    failOnce('keepalive', new DiscoveryError(404, 'not_found', 'no lease'))
    const { actor, clock } = start(api)
    await settle()
    clock.increment(10_100)
    await settle()
    await settle()
    expect(calls).toEqual(['register', 'keepalive', 'register'])
    expect(actor.getSnapshot().context.registered).toBe(true)
  })

  it('backs off while the server is down, keeps the error for status, and recovers', async () => {
    const { api, calls, failOnce } = fakeApi()
    failOnce('register', new DiscoveryError(0, 'server_unreachable', 'connection refused'))
    failOnce('register', new DiscoveryError(0, 'server_unreachable', 'connection refused'))
    const { actor, clock } = start(api)
    await settle()
    expect(actor.getSnapshot().value).toBe('waiting')
    expect(actor.getSnapshot().context.lastError?.message).toMatch(/refused/)
    clock.increment(1000)
    await settle()
    expect(calls).toEqual(['register', 'register'])
    expect(actor.getSnapshot().context.attempt).toBe(2)
    clock.increment(1000)
    await settle()
    expect(calls).toEqual(['register', 'register', 'register'])
    expect(actor.getSnapshot().value).toBe('registered')
    expect(actor.getSnapshot().context).toMatchObject({ attempt: 0, registered: true, lastError: undefined })
  })

  it('unregisters on STOP and finishes', async () => {
    const { api, calls } = fakeApi()
    const { actor } = start(api)
    await settle()
    actor.send({ type: 'STOP' })
    await settle()
    expect(calls).toEqual(['register', 'unregister'])
    expect(actor.getSnapshot().status).toBe('done')
  })

  it('renews through a keep-alive child that the system knows by name, and drops it on failure', async () => {
    const { api, failOnce } = fakeApi()
    failOnce('keepalive', new DiscoveryError(503, 'unavailable', 'try later'))
    const { actor, clock } = start(api)
    await settle()
    expect(actor.system.get('keepalive')?.getSnapshot().value).toBe('waiting')
    clock.increment(10_100)
    await settle()
    expect(actor.getSnapshot().value).toBe('waiting')
    expect(actor.getSnapshot().context.lastError).toMatchObject({ message: 'try later', code: 'unavailable' })
    expect(actor.system.get('keepalive')).toBeUndefined()
  })

  it('STOP abandons a request in flight: its signal aborts and no error is recorded', async () => {
    let signal: AbortSignal | undefined
    const calls: string[] = []
    const api: DiscoveryApi = {
      register: (s) => {
        signal = s
        calls.push('register')
        return new Promise((_, reject) => s.addEventListener('abort', () => reject(s.reason)))
      },
      keepalive: () => Promise.reject(new Error('unused')),
      unregister: async () => {
        calls.push('unregister')
      },
    }
    const { actor } = start(api)
    actor.send({ type: 'STOP' })
    await settle()
    expect(signal?.aborted).toBe(true)
    expect(calls).toEqual(['register', 'unregister'])
    expect(actor.getSnapshot().status).toBe('done')
    expect(actor.getSnapshot().context.lastError).toBeUndefined()
  })

  it('without provided actors, registering fails into backoff instead of throwing', async () => {
    const actor = createActor(discoveryMachine, { clock: new SimulatedClock(), input: { backoff: { baseMs: 1000, maxMs: 1000 } } })
    actor.start()
    await settle()
    expect(actor.getSnapshot().value).toBe('waiting')
    expect(actor.getSnapshot().context.lastError?.message).toMatch(/not provided/)
  })

  it('keepaliveInterval is a third of the lease left, with a fallback for nonsense', () => {
    expect(keepaliveInterval(new Date(30_000).toISOString(), 0, 5)).toBe(10_000)
    expect(keepaliveInterval('not a date', 0, 5)).toBe(5)
    expect(keepaliveInterval(new Date(0).toISOString(), 10, 5)).toBe(5)
  })
})

/** A parent that records what the keep-alive child reports, as the discovery machine hears it. */
function keepaliveHarness(renew: (signal: AbortSignal) => Promise<Lease>) {
  const parent = setup({
    types: { context: {} as { reports: KeepaliveReport[] }, events: {} as KeepaliveReport },
    actors: { child: keepaliveMachine.provide({ actors: { keepalive: fromPromise<Lease>(({ signal }) => renew(signal)) } }) },
    actions: { record: assign({ reports: ({ context, event }) => [...context.reports, event] }) },
  }).createMachine({
    context: { reports: [] },
    invoke: { id: 'keepalive', systemId: 'keepalive', src: 'child', input: { keepaliveMs: 1000 } },
    on: { LEASE_RENEWED: { actions: 'record' }, LEASE_GONE: { actions: 'record' }, KEEPALIVE_FAILED: { actions: 'record' } },
  })
  const clock = new SimulatedClock()
  const actor = createActor(parent, { clock }).start()
  const child = () => actor.system.get('keepalive')
  const advance = async (ms: number) => {
    clock.increment(ms)
    await settle()
  }
  return { advance, child, reports: () => actor.getSnapshot().context.reports }
}

describe('keep-alive machine', () => {
  it('waits, renews, and renews again after a third of the new lease', async () => {
    let renewals = 0
    const { advance, reports } = keepaliveHarness(async () => {
      renewals++
      return { expiresAt: new Date(Date.now() + 6_000).toISOString() }
    })
    await advance(999)
    expect(renewals).toBe(0)
    await advance(1)
    expect(renewals).toBe(1)
    expect(reports()).toEqual([{ type: 'LEASE_RENEWED', expiresAt: expect.any(String) }])
    await advance(1_900)
    expect(renewals).toBe(1)
    await advance(200)
    expect(renewals).toBe(2)
  })

  it('reports LEASE_GONE on 404 and ends', async () => {
    const { advance, child, reports } = keepaliveHarness(() => Promise.reject(new DiscoveryError(404, 'not_found', 'no lease')))
    await advance(1000)
    expect(reports()).toEqual([{ type: 'LEASE_GONE' }])
    expect(child()).toBeUndefined()
  })

  it('reports KEEPALIVE_FAILED with the error on any other failure and ends', async () => {
    const error = new DiscoveryError(0, 'server_unreachable', 'connection refused')
    const { advance, child, reports } = keepaliveHarness(() => Promise.reject(error))
    expect(child()?.getSnapshot().value).toBe('waiting')
    await advance(1000)
    expect(reports()).toEqual([{ type: 'KEEPALIVE_FAILED', error }])
    expect(child()).toBeUndefined()
  })
})

describe('discovery client', () => {
  it("rejects with the caller's abort, not a DiscoveryError, when the caller gives up", async () => {
    const server = createServer(() => {}) // never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const client = new DiscoveryClient(`http://127.0.0.1:${port}`, generateIdentity(), 'alice')
      const controller = new AbortController()
      const pending = client.keepalive(controller.signal)
      setTimeout(() => controller.abort(), 20)
      const error = await pending.catch((e: unknown) => e)
      expect(error).not.toBeInstanceOf(DiscoveryError)
      expect((error as Error).name).toBe('AbortError')
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })
})
