import { describe, expect, it } from 'vitest'
import { subscribe } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'

describe('the daemon as one actor system', () => {
  const net = useNetwork(['alice', 'bob'])

  it('status --verbose shows the actor tree and each peer link, from XState inspection', async () => {
    expect((await net.alice.rpc('send', { to: 'bob', text: 'hello tree' })).status).toBe('delivered')
    const status = await net.alice.rpc('status', { verbose: true })
    const byId = new Map(status.actors?.map((a) => [a.id, a]))
    expect(byId.get('daemon')?.depth).toBe(0)
    expect(byId.get('discovery')).toMatchObject({ depth: 1, state: 'registered' })
    expect(byId.get('keepalive')?.depth).toBe(2)
    expect(byId.get('policy')?.depth).toBe(1)
    expect(byId.get('links')).toMatchObject({ depth: 1, state: 'active' })
    expect(status.links).toContainEqual({ peer: 'bob', state: 'connected.live' })
    // Without --verbose the answer stays the short one.
    expect((await net.alice.rpc('status')).actors).toBeUndefined()
  })

  it('a timed mute that ends is told to subscribers, once', async () => {
    const subscription = await subscribe(net.bob.socket)
    await net.bob.rpc('mute', { peer: 'alice', for: '1s' })
    const ended = await eventually(() => subscription.notices.find((e) => e.type === 'muteEnded'))
    expect(ended.peer).toBe('alice')
    // Later messages are published again, and the end was announced only once.
    await net.alice.rpc('send', { to: 'bob', text: 'audible again' })
    await eventually(() => subscription.events.some((e) => e.text === 'audible again'))
    expect(subscription.notices.filter((e) => e.type === 'muteEnded')).toHaveLength(1)
    subscription.close()
  })

  it('a block closes the live link through the policy actor, and an unblock lets queued messages out', async () => {
    expect((await net.alice.rpc('send', { to: 'bob', text: 'before' })).status).toBe('delivered')
    await net.bob.rpc('block', { peer: 'alice' })
    await eventually(async () => (await net.bob.rpc('status')).peers.connected === 0)
    expect((await net.alice.rpc('send', { to: 'bob', text: 'held back', timeout: 1 })).status).toBe('queued')
    await net.bob.rpc('unblock', { peer: 'alice' })
    // alice's daemon retries by itself; bob's unblock does not need her to send again.
    await eventually(async () => {
      const history = await net.bob.rpc('history', { peer: 'alice' })
      return history.some((m) => m.text === 'held back')
    })
  })
})
