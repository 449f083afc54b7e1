/** `--server A,B`: the list is checked as a whole, and the client moves to the next instance that answers. */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { DiscoveryClient, DiscoveryError, worthFailover } from '../../src/daemon/discovery-client.js'
import { generateIdentity } from '../../src/protocol/identity.js'
import { checkServerUrl, sameServerUrl, serverUrls } from '../../src/protocol/server-url.js'

describe('a list of server URLs', () => {
  it('checks every URL of the list and names the bad one', () => {
    expect(checkServerUrl('http://a:5000,http://b:5000')).toBe('http://a:5000,http://b:5000')
    expect(serverUrls('http://a:5000, http://b:5000')).toEqual(['http://a:5000', 'http://b:5000'])
    expect(() => checkServerUrl('http://a:5000,b:5000')).toThrow(/"b:5000" \(in "http:\/\/a:5000,b:5000"\)/)
    expect(() => checkServerUrl('http://a:5000,')).toThrow(expect.objectContaining({ code: 'usage' }))
  })

  it('compares lists URL by URL, in order', () => {
    expect(sameServerUrl('http://a:1,http://b:1', 'http://a:1/,http://b:1/')).toBe(true)
    expect(sameServerUrl('http://a:1,http://b:1', 'http://b:1,http://a:1')).toBe(false)
    expect(sameServerUrl('http://a:1', 'http://a:1,http://b:1')).toBe(false)
  })

  it('fails over on an unreachable instance or a 5xx, never on an answer about the request', () => {
    expect(worthFailover(new DiscoveryError(0, 'server_unreachable', ''))).toBe(true)
    expect(worthFailover(new DiscoveryError(503, 'unavailable', ''))).toBe(true)
    expect(worthFailover(new DiscoveryError(404, 'not_found', ''))).toBe(false)
    expect(worthFailover(new DiscoveryError(409, 'user_id_taken', ''))).toBe(false)
    expect(worthFailover(new Error('aborted'))).toBe(false)
  })
})

describe('discovery client with several instances', () => {
  const servers: Server[] = []
  afterEach(() => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections()
      s.close()
    }
  })

  /** A stub instance answering every request with `status`, counting the requests. */
  async function stub(status: number): Promise<{ url: string; hits: () => number }> {
    let hits = 0
    const server = createServer((req, res) => {
      hits++
      req.resume()
      const body =
        status === 200 ? { expiresAt: new Date(Date.now() + 30_000).toISOString() } : { error: { code: 'unavailable', message: 'x' } }
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    servers.push(server)
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits }
  }

  it('moves past a dead instance and one answering 503, then stays on the one that answered', async () => {
    const dead = await stub(200)
    const deadUrl = dead.url
    servers.pop()?.close()
    const failing = await stub(503)
    const good = await stub(200)
    const moves: string[] = []
    const client = new DiscoveryClient(`${deadUrl},${failing.url},${good.url}`, generateIdentity(), 'alice', undefined, (from, to) =>
      moves.push(`${from} -> ${to}`),
    )
    expect(await client.keepalive()).toHaveProperty('expiresAt')
    expect(client.baseUrl).toBe(good.url)
    expect(moves).toEqual([`${deadUrl} -> ${failing.url}`, `${failing.url} -> ${good.url}`])
    await client.keepalive()
    expect(failing.hits()).toBe(1)
    expect(good.hits()).toBe(2)
  })

  it('gives up after one round, with the last error', async () => {
    const a = await stub(503)
    const b = await stub(503)
    const client = new DiscoveryClient(`${a.url},${b.url}`, generateIdentity(), 'alice')
    await expect(client.keepalive()).rejects.toMatchObject({ status: 503 })
    expect(a.hits() + b.hits()).toBe(2)
  })
})
