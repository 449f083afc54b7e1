import { describe, expect, it } from 'vitest'
import { startRegisteredDaemons, status } from '../helpers/daemon.js'
import { startServerProcess } from '../helpers/server.js'

describe('addresses', () => {
  it('daemons listen dual-stack: with the server on ::1 the address it records is IPv6, and messages get through', async () => {
    const server = await startServerProcess({ host: '::1' })
    const serverUrl = server.url.replace('http://::1:', 'http://[::1]:')
    const [alice, bob] = await startRegisteredDaemons(serverUrl, ['alice', 'bob'])
    try {
      expect((await status(alice!)).listen.host).toBe('::')
      const found = await alice!.rpc('discover')
      expect(found.find((p) => p.userId === 'bob')?.host).toBe('::1')
      expect((await alice!.rpc('send', { to: 'bob', text: 'over IPv6', timeout: 10 })).status).toBe('delivered')
    } finally {
      await Promise.all([alice?.stop(), bob?.stop()])
      await server.stop()
    }
  })
})
