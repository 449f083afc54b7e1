/**
 * The server as a service manager and the network treat it: SIGHUP does not kill it, and a client
 * that goes away mid-request is the client's business, not a server error.
 */
import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { eventually } from '../helpers/eventually.js'
import { type ServerProcess, startServerProcess } from '../helpers/server.js'

let server: ServerProcess | undefined
afterEach(async () => {
  await server?.kill()
  server = undefined
})

const logLines = (s: ServerProcess) =>
  s
    .stderr()
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l) as { level: number; msg: string; status?: number })

const healthz = async (s: ServerProcess) => (await fetch(`${s.url}/healthz`)).status

describe('p2p server signals and client aborts', () => {
  it('SIGHUP leaves it running and answering', async () => {
    server = await startServerProcess()
    server.child.kill('SIGHUP')
    await eventually(() => logLines(server!).some((l) => l.msg.startsWith('SIGHUP')))
    expect(server.child.exitCode).toBe(null)
    expect(server.child.signalCode).toBe(null)
    expect(await healthz(server)).toBe(200)
    expect(await server.stop()).toBe(0)
  })

  it('a client that closes mid-body is logged below error level, and the server keeps answering', async () => {
    server = await startServerProcess({ args: ['--log-level', 'debug'] })
    const socket = connect(server.port, '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    // `expect: 100-continue`: the server's "100 Continue" says its handler has the request.
    socket.write(
      'POST /v1/register HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000\r\nexpect: 100-continue\r\n\r\n',
    )
    await new Promise<void>((resolve) => socket.once('data', () => resolve()))
    socket.write('{"userId":')
    socket.destroy()
    await eventually(() => logLines(server!).some((l) => l.msg === 'client closed the request'))
    expect(logLines(server).filter((l) => l.level >= 50)).toEqual([])
    expect(await healthz(server)).toBe(200)
  })
})
