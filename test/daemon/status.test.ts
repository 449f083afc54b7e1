import { describe, expect, it } from 'vitest'
import { status } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'

describe('daemon status', () => {
  const net = useNetwork(['alice', 'bob'])

  it('names its control socket, and counts a peer that left as soon as its link is gone', async () => {
    expect((await status(net.alice)).socket).toBe(net.alice.socket)
    // A peer that arrives shows within the list's age (a few seconds)...
    await eventually(async () => (await status(net.alice)).peers.online === 1)
    expect((await net.alice.rpc('send', { to: 'bob', text: 'hello' })).status).toBe('delivered')
    await net.bob.stop()
    await eventually(async () => (await status(net.alice)).peers.connected === 0)
    // ...one that leaves shows at once: the link going down sends status back to the server.
    expect((await status(net.alice)).peers.online).toBe(0)
  })
})
