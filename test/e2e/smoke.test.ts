import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DaemonProcess, eventually, startDaemonProcess, subscribe } from '../helpers/daemon.js'
import { type ServerProcess, startServerProcess } from '../helpers/server.js'

describe('smoke', () => {
  let server: ServerProcess
  let alice: DaemonProcess
  let bob: DaemonProcess
  beforeAll(async () => {
    server = await startServerProcess({ ttl: 5 })
    alice = await startDaemonProcess({ userId: 'alice', serverUrl: server.url })
    bob = await startDaemonProcess({ userId: 'bob', serverUrl: server.url })
  })
  afterAll(async () => {
    await alice?.stop()
    await bob?.stop()
    await server?.stop()
  })
  it('sends a message', async () => {
    await eventually(async () => ((await alice.rpc<{ server: { registered: boolean } }>('status')).server.registered ? true : false))
    await eventually(async () => ((await bob.rpc<{ server: { registered: boolean } }>('status')).server.registered ? true : false))
    const sub = await subscribe(bob.socket)
    const result = await alice.rpc<{ status: string }>('send', { to: 'bob', text: 'hello bob' })
    console.log(result, alice.output(), bob.output())
    expect(result.status).toBe('delivered')
    await eventually(() => sub.events.length === 1)
    expect(sub.events[0]?.text).toBe('hello bob')
    const back = await bob.rpc<{ status: string }>('send', { to: 'alice', text: 'hi alice' })
    expect(back.status).toBe('delivered')
  })
})
