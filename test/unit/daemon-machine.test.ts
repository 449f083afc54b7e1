import { describe, expect, it } from 'vitest'
import { createActor, fromCallback, fromPromise, SimulatedClock } from 'xstate'
import { ActorTree, describeState } from '../../src/daemon/actor-tree.js'
import { daemonMachine, type LinksEvent } from '../../src/daemon/daemon.machine.js'
import { discoveryMachine } from '../../src/daemon/discovery.machine.js'
import { policyMachine } from '../../src/daemon/policy.machine.js'
import { type RelayConnection, relayMachine } from '../../src/daemon/relay.machine.js'

const settle = () => new Promise((r) => setImmediate(r))

function harness(register: () => Promise<{ expiresAt: string }>, leaseGranted?: () => void) {
  const failures: string[] = []
  const received: LinksEvent[] = []
  let linksStopped = false
  const machine = daemonMachine.provide({
    actors: {
      discovery: discoveryMachine.provide({
        actors: { register: fromPromise(register) },
        ...(leaseGranted ? { actions: { leaseGranted } } : {}),
      }),
      policy: policyMachine.provide({ actions: { persist: () => {} } }),
      relay: relayMachine.provide({ actors: { connect: fromPromise<RelayConnection>(() => new Promise(() => {})) } }),
      links: fromCallback<LinksEvent>(({ receive }) => {
        receive((event) => received.push(event))
        return () => {
          linksStopped = true
        }
      }),
    },
    actions: { childFailed: (_, { child }) => failures.push(child) },
  })
  const clock = new SimulatedClock()
  const tree = new ActorTree()
  const root = createActor(machine, {
    systemId: 'daemon',
    clock,
    inspect: tree.inspect,
    input: {
      discovery: { backoff: { baseMs: 1000, maxMs: 1000 } },
      policy: { policies: {}, now: Date.now() },
      relay: { backoff: { baseMs: 1000, maxMs: 1000 }, pingIntervalMs: 15_000 },
      restartDelayMs: 5000,
    },
  })
  root.start()
  return { root, clock, tree, failures, received, linksStopped: () => linksStopped }
}

describe('daemon root machine', () => {
  it('starts policy and links at once, and discovery only once the listener is up', async () => {
    const { root, tree } = harness(() => Promise.resolve({ expiresAt: new Date(Date.now() + 30_000).toISOString() }))
    expect(root.system.get('policy')).toBeDefined()
    expect(root.system.get('links')).toBeDefined()
    expect(root.system.get('discovery')).toBeUndefined()
    expect(root.system.get('relay')).toBeUndefined()
    root.send({ type: 'LISTENING' })
    await settle()
    expect(root.system.get('discovery')?.getSnapshot().value).toBe('registered')
    expect(root.system.get('keepalive')).toBeDefined()
    expect(root.system.get('relay')?.getSnapshot().value).toBe('connecting')
    const ids = tree.describe().map((a) => `${'  '.repeat(a.depth)}${a.id}`)
    expect(ids).toEqual(expect.arrayContaining(['daemon', '  discovery', '    keepalive', '  policy', '  links']))
  })

  it('a discovery child that fails is reported and started again after a pause', async () => {
    let registrations = 0
    const { root, clock, failures } = harness(
      () => {
        registrations++
        return Promise.resolve({ expiresAt: new Date(Date.now() + 30_000).toISOString() })
      },
      () => {
        throw new Error('a bug while taking the lease')
      },
    )
    root.send({ type: 'LISTENING' })
    await settle()
    expect(failures).toEqual(['discovery'])
    expect(root.getSnapshot().value).toMatchObject({ discovery: 'failed' })
    expect(root.getSnapshot().status).toBe('active')
    clock.increment(5000)
    await settle()
    expect(registrations).toBe(2)
    expect(failures).toEqual(['discovery', 'discovery'])
  })

  it('stopping the root stops the links child (which closes the peer links)', () => {
    const { root, linksStopped } = harness(() => new Promise(() => {}))
    root.stop()
    expect(linksStopped()).toBe(true)
  })

  it('describeState writes nested states as text', () => {
    expect(describeState({ status: 'active', value: 'idle' })).toBe('idle')
    expect(describeState({ status: 'active', value: { connected: 'live' } })).toBe('connected.live')
    expect(describeState({ status: 'active' })).toBe('active')
    expect(describeState({ status: 'done', value: 'stopped' })).toBe('done')
  })
})
