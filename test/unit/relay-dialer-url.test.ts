/** The daemon opens its circuit end where the relay says it meets (`url`), else at its control connection's instance. */
import { createServer, type Server } from 'node:http'
import type { Socket } from 'node:net'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { RelayDialer } from '../../src/daemon/relay-dialer.js'
import { RELAY_PROTOCOL } from '../../src/protocol/relay.js'
import { eventually } from '../helpers/eventually.js'

const TOKEN = 'abcdefghijklmnopqrstuvwx'
/** Nothing listens here: a circuit opened at the control connection's instance would fail. */
const CONTROL_URL = 'http://127.0.0.1:1'
let server: Server | undefined
const sockets: Socket[] = []

afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy()
  server?.close()
})

/** Another instance: answers every circuit upgrade with 101 and remembers the paths. */
async function otherInstance(): Promise<{ url: string; paths: string[] }> {
  const paths: string[] = []
  server = createServer()
  server.on('upgrade', (req, socket) => {
    paths.push(req.url ?? '')
    sockets.push(socket as Socket)
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${RELAY_PROTOCOL}\r\nConnection: Upgrade\r\n\r\n`)
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, paths }
}

function dialer(url: string | undefined, accepted: Socket[]): RelayDialer {
  return new RelayDialer({
    control: () => ({ serverUrl: CONTROL_URL, dial: async () => (url ? { token: TOKEN, url } : { token: TOKEN }) }),
    accept: async (socket) => {
      accepted.push(socket)
    },
    log: pino({ level: 'silent' }),
    timeoutMs: 5000,
    maxPendingIncoming: 4,
  })
}

describe('RelayDialer and the url the relay names', () => {
  it('open(): dial_ok.url is where our end goes', async () => {
    const other = await otherInstance()
    const socket = await dialer(other.url, []).open('bob', new AbortController().signal)
    sockets.push(socket)
    expect(other.paths).toEqual([`/v1/relay/circuit/${TOKEN}`])
  })

  it('incoming(): incoming.url is where our end goes', async () => {
    const other = await otherInstance()
    const accepted: Socket[] = []
    dialer(undefined, accepted).incoming({ from: 'alice', fromKey: 'ab'.repeat(32), token: TOKEN, url: other.url }, CONTROL_URL)
    await eventually(() => expect(accepted).toHaveLength(1))
    sockets.push(...accepted)
    expect(other.paths).toEqual([`/v1/relay/circuit/${TOKEN}`])
  })
})
