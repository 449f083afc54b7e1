import { mkdtempSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ControlClient } from '../../src/cli/control-client.js'

/** A fake daemon on a Unix socket: `answer` decides, per request, when (if ever) to answer. */
async function fakeDaemon(answer: (request: { id: number; method: string }, reply: () => void) => void) {
  const path = join(mkdtempSync(join(tmpdir(), 'p2p-cc-')), 'control.sock')
  const requests: string[] = []
  const server: Server = createServer((socket: Socket) => {
    let buffer = ''
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (buffer + chunk).split('\n')
      buffer = lines.pop() ?? ''
      for (const line of lines) {
        const request = JSON.parse(line) as { id: number; method: string }
        requests.push(request.method)
        answer(request, () => socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: request.id, result: { ok: request.id } })}\n`))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(path, resolve))
  servers.push(server)
  return { path, requests }
}

const servers: Server[] = []
afterEach(() => {
  for (const server of servers.splice(0)) server.close()
})

describe('ControlClient', () => {
  it('a pipeline whose answers keep coming outlives the allowance; silence does not', async () => {
    let next = 0
    // One answer every 100 ms: fifteen take 1.5 s, longer than the 1 s allowance (a wide margin
    // either way, for a busy machine).
    const daemon = await fakeDaemon((request, reply) => {
      if (request.method === 'status') setTimeout(reply, 100 * ++next)
    })
    const client = new ControlClient(daemon.path, { notRunningMessage: 'none', timeoutMs: 1000 })
    const answers = await Promise.all(Array.from({ length: 15 }, () => client.call('status')))
    expect(answers).toHaveLength(15)
    // Nothing answers this one: it fails, not hangs.
    await expect(client.call('peers')).rejects.toMatchObject({ code: 'daemon_not_responding' })
    client.close()
  })

  it('sends the requests of one turn, in order', async () => {
    const daemon = await fakeDaemon((_request, reply) => reply())
    const client = new ControlClient(daemon.path, { notRunningMessage: 'none' })
    await Promise.all([client.call('status'), client.call('peers'), client.call('status')])
    expect(daemon.requests).toEqual(['status', 'peers', 'status'])
    client.close()
  })
})
