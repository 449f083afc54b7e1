import { cpSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startDaemonProcess, status, tempHome } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'

describe('a copied profile started twice', () => {
  const net = useNetwork(['bob'])

  it('the copy is refused as online elsewhere, messages go to one daemon only, and it takes over once the original stops', async () => {
    const original = await startDaemonProcess({ userId: 'alice', serverUrl: net.server.url })
    await eventually(async () => (await status(original)).server.registered)
    await original.stop()
    const copy = tempHome('p2p-copy-')
    cpSync(original.home, copy, { recursive: true })
    for (const stale of ['p2p.sock', 'daemon.pid']) rmSync(join(copy, stale), { force: true })

    const alice = await startDaemonProcess({ home: original.home, serverUrl: net.server.url })
    await eventually(async () => (await status(alice)).server.registered)
    const twin = await startDaemonProcess({ home: copy, serverUrl: net.server.url })
    try {
      const refused = await eventually(async () => {
        const s = await status(twin)
        return s.server.error ? s : undefined
      })
      expect(refused.server.registered).toBe(false)
      expect(refused.server.error).toMatch(/online elsewhere/)
      expect((await status(alice)).server.registered).toBe(true)

      expect((await net.bob.rpc('send', { to: 'alice', text: 'to the one alice' })).status).toBe('delivered')
      expect((await alice.rpc('history', {})).map((m) => m.text)).toContain('to the one alice')
      expect(await twin.rpc('history', {})).toEqual([])

      // The original goes away (and unregisters): the copy is the one alice now.
      await alice.stop()
      await eventually(async () => (await status(twin)).server.registered)
      expect((await net.bob.rpc('send', { to: 'alice', text: 'to the copy' })).status).toBe('delivered')
    } finally {
      await Promise.all([alice.stop(), twin.stop()])
    }
  })
})
