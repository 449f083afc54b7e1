import { describe, expect, it } from 'vitest'
import { createActor, SimulatedClock } from 'xstate'
import { type DiscoveryApi, discoveryMachine, keepaliveInterval } from '../../src/daemon/discovery.machine.js'
import { DiscoveryError } from '../../src/daemon/discovery-client.js'

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
  const actor = createActor(discoveryMachine, { clock, input: { api, backoff: { baseMs: 1000, maxMs: 1000 } } })
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
    expect(actor.getSnapshot().context.lastError).toMatch(/refused/)
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

  it('keepaliveInterval is a third of the lease left, with a fallback for nonsense', () => {
    expect(keepaliveInterval(new Date(30_000).toISOString(), 0, 5)).toBe(10_000)
    expect(keepaliveInterval('not a date', 0, 5)).toBe(5)
    expect(keepaliveInterval(new Date(0).toISOString(), 10, 5)).toBe(5)
  })
})
