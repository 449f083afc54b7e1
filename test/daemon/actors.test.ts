import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SendResult, StatusResult } from '../../src/protocol/rpc.js'
import { type DaemonProcess, eventually, startNetwork, stopNetwork, subscribe } from '../helpers/daemon.js'
import type { ServerProcess } from '../helpers/server.js'

describe('the daemon as one actor system', () => {
  let server: ServerProcess
  let alice: DaemonProcess
  let bob: DaemonProcess

  beforeAll(async () => {
    ;({
      server,
      daemons: [alice, bob],
    } = await startNetwork(['alice', 'bob']))
  })

  afterAll(async () => {
    await stopNetwork(server, alice, bob)
  })

  it('status --verbose shows the actor tree and each peer link, from XState inspection', async () => {
    expect((await alice.rpc<SendResult>('send', { to: 'bob', text: 'hello tree' })).status).toBe('delivered')
    const status = await alice.rpc<StatusResult>('status', { verbose: true })
    const byId = new Map(status.actors?.map((a) => [a.id, a]))
    expect(byId.get('daemon')?.depth).toBe(0)
    expect(byId.get('discovery')).toMatchObject({ depth: 1, state: 'registered' })
    expect(byId.get('keepalive')?.depth).toBe(2)
    expect(byId.get('policy')?.depth).toBe(1)
    expect(byId.get('links')).toMatchObject({ depth: 1, state: 'active' })
    expect(status.links).toContainEqual({ peer: 'bob', state: 'connected.live' })
    // Without --verbose the answer stays the short one.
    expect((await alice.rpc<StatusResult>('status')).actors).toBeUndefined()
  })

  it('a timed mute that ends is told to subscribers, once', async () => {
    const subscription = await subscribe(bob.socket)
    await bob.rpc('mute', { peer: 'alice', for: '1s' })
    const ended = await eventually(() =>
      (subscription.events as unknown as Array<{ type: string; peer?: string }>).find((e) => e.type === 'muteEnded'),
    )
    expect(ended.peer).toBe('alice')
    // Later messages are published again, and the end was announced only once.
    await alice.rpc('send', { to: 'bob', text: 'audible again' })
    await eventually(() => subscription.events.some((e) => e.text === 'audible again'))
    expect((subscription.events as unknown as Array<{ type: string }>).filter((e) => e.type === 'muteEnded')).toHaveLength(1)
    subscription.close()
  })

  it('a block closes the live link through the policy actor, and an unblock lets queued messages out', async () => {
    expect((await alice.rpc<SendResult>('send', { to: 'bob', text: 'before' })).status).toBe('delivered')
    await bob.rpc('block', { peer: 'alice' })
    await eventually(async () => (await bob.rpc<StatusResult>('status')).peers.connected === 0)
    expect((await alice.rpc<SendResult>('send', { to: 'bob', text: 'held back', timeout: 1 })).status).toBe('queued')
    await bob.rpc('unblock', { peer: 'alice' })
    // alice's daemon retries by itself; bob's unblock does not need her to send again.
    await eventually(async () => {
      const history = await bob.rpc<Array<{ text: string }>>('history', { peer: 'alice' })
      return history.some((m) => m.text === 'held back')
    })
  })
})
