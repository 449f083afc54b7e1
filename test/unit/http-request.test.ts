import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { httpRequest } from '../../src/daemon/http-request.js'

let server: Server | undefined
afterEach(() => {
  server?.closeAllConnections()
  server?.close()
  server = undefined
})

async function serve(handler: Parameters<typeof createServer>[1]): Promise<URL> {
  server = createServer(handler)
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/x`)
}

describe('httpRequest', () => {
  it('sends the method, headers and body, and answers with the status and the whole body', async () => {
    const url = await serve((req, res) => {
      let body = ''
      req.on('data', (c) => {
        body += c
      })
      req.on('end', () => {
        res.statusCode = 409
        res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'], body }))
      })
    })
    const answer = await httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"é":1}',
      signal: AbortSignal.timeout(10_000),
    })
    expect(answer.status).toBe(409)
    expect(JSON.parse(answer.text)).toEqual({ method: 'POST', type: 'application/json', body: '{"é":1}' })
  })

  it('rejects when the signal fires while the body is still coming', async () => {
    const controller = new AbortController()
    const url = await serve((_req, res) => {
      res.writeHead(200)
      // The headers and part of the body are out: then the caller gives up.
      res.write('{"partial":', () => controller.abort(new Error('gave up')))
    })
    const pending = httpRequest(url, { method: 'GET', signal: controller.signal })
    await expect(pending).rejects.toThrow()
  })

  it('rejects when nothing listens', async () => {
    const url = await serve(() => {})
    await new Promise((resolve) => server?.close(resolve))
    await expect(httpRequest(url, { method: 'GET', signal: AbortSignal.timeout(10_000) })).rejects.toThrow(/ECONNREFUSED/)
  })
})
