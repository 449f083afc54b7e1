/**
 * The control socket as any JSON-RPC client drives it: `printf REQUEST | socat - UNIX-CONNECT:SOCK`
 * writes its requests, ends its side at once, and must still get every answer.
 */
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'

/** Writes `lines`, half-closes at once, and collects everything the daemon answers until it ends the connection. */
function halfCloseExchange(socketPath: string, lines: Array<string | Buffer>): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath)
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (received += chunk))
    socket.on('error', reject)
    socket.on('end', () => {
      socket.end()
      resolve(
        received
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      )
    })
    socket.end(Buffer.concat(lines.map((l) => Buffer.concat([Buffer.from(l), Buffer.from('\n')]))))
  })
}

describe('the control socket', () => {
  const net = useNetwork(['alice', 'bob'])

  it('answers every request of a client that half-closes right after writing, then ends the connection', async () => {
    const send = { jsonrpc: '2.0', id: 1, method: 'send', params: { to: 'bob', text: 'half-closed' } }
    const answers = await halfCloseExchange(net.alice.socket, [
      JSON.stringify(send),
      'not json',
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'status' }),
    ])
    expect(answers).toHaveLength(3)
    expect(answers.find((a) => a.id === 1)).toMatchObject({ result: { to: 'bob', status: 'delivered' } })
    expect(answers.find((a) => a.id === 2)).toMatchObject({ result: { running: true, userId: 'alice' } })
    expect(answers.find((a) => a.id === null)).toMatchObject({ error: { data: { code: 'bad_request' } } })
    const history = await net.bob.rpc('history', { peer: 'alice', limit: 1 })
    expect(history[0]?.text).toBe('half-closed')
  })

  it('refuses a request that is not UTF-8 instead of sending its text with replacement characters', async () => {
    const request = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'send', params: { to: 'bob', text: 'bad XX byte' } })
    const bytes = Buffer.from(request)
    const at = bytes.indexOf('XX')
    bytes[at] = 0xc3 // a lead byte followed by an ASCII byte: not UTF-8
    bytes[at + 1] = 0x28
    const answers = await halfCloseExchange(net.alice.socket, [bytes, JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'status' })])
    expect(answers.find((a) => a.id === null)).toMatchObject({
      error: { code: -32700, message: expect.stringMatching(/not valid UTF-8/), data: { code: 'bad_request' } },
    })
    expect(answers.find((a) => a.id === 8)).toMatchObject({ result: { running: true } })
    const history = await net.bob.rpc('history', { peer: 'alice' })
    expect(history.some((m) => m.text.startsWith('bad '))).toBe(false)
  })

  it('takes a thousand sends pipelined in one write in the order written, across the turns it reads them in', async () => {
    // The daemon handles a connection's requests 256 per turn; bob must get them in order (SPEC 7).
    const lines = Array.from({ length: 1000 }, (_, i) =>
      JSON.stringify({ jsonrpc: '2.0', id: i, method: 'send', params: { to: 'bob', text: `pipelined ${i}`, timeout: 0 } }),
    )
    const answers = await halfCloseExchange(net.alice.socket, lines)
    expect(answers.map((a) => a.id).sort((x, y) => Number(x) - Number(y))).toEqual(lines.map((_, i) => i))
    expect(answers.filter((a) => a.error)).toEqual([])
    const received = await eventually(async () => {
      const history = await net.bob.rpc('history', { peer: 'alice', limit: 1000 })
      const texts = history.map((m) => m.text).filter((text) => text.startsWith('pipelined '))
      return texts.length === 1000 ? texts : undefined
    })
    expect(received).toEqual(lines.map((_, i) => `pipelined ${i}`))
  })

  it('a client that only connects and half-closes gets the connection ended', async () => {
    expect(await halfCloseExchange(net.alice.socket, [])).toEqual([])
  })
})
