/** The online list served from cached pages: ETag and If-None-Match, and rebuilt when presence changes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { etagOf, matchesEtag, PeerPageCache, pageValidUntil } from '../../src/server/peer-page-cache.js'
import { leaseBody, makeUser, post, registerBody, startTestServer, type TestServer } from './support.js'

describe('page cache pieces', () => {
  it('a page stands until its first lease ends or it is maxAge old', () => {
    expect(pageValidUntil(1000, 500, [])).toBe(1500)
    expect(pageValidUntil(1000, 500, [1800, 1200, 1900])).toBe(1200)
  })

  it('If-None-Match matches lists, weak forms and *', () => {
    const etag = etagOf('{"peers":[]}')
    expect(matchesEtag(etag, etag)).toBe(true)
    expect(matchesEtag(`"x", W/${etag}`, etag)).toBe(true)
    expect(matchesEtag('*', etag)).toBe(true)
    expect(matchesEtag('"other"', etag)).toBe(false)
    expect(matchesEtag(undefined, etag)).toBe(false)
  })

  it('drops every page on a local change or a new presence version, and keeps them otherwise', () => {
    const cache = new PeerPageCache(1000)
    cache.put('limit=100', '{}', 0, [])
    expect(cache.get('limit=100', 999)).toBeDefined()
    expect(cache.get('limit=100', 1000)).toBeUndefined()
    cache.put('limit=100', '{}', 0, [])
    cache.observe('7')
    expect(cache.get('limit=100', 1)).toBeUndefined()
    cache.put('limit=100', '{}', 0, [])
    cache.observe('7')
    expect(cache.get('limit=100', 1)).toBeDefined()
    cache.invalidate()
    expect(cache.get('limit=100', 1)).toBeUndefined()
  })
})

describe('GET /v1/peers with ETag', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer('sqlite')
  })
  afterAll(() => server.close())

  const list = (etag?: string) => fetch(`${server.url}/v1/peers?limit=100`, { headers: etag ? { 'if-none-match': etag } : {} })

  it('answers 304 with no body while the list stands, and a new list after someone comes or goes', async () => {
    const ivan = makeUser('ivan')
    expect((await post(server.url, '/v1/register', registerBody(ivan))).status).toBe(200)
    const first = await list()
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"[\w-]+"$/)
    expect(((await first.json()) as { peers: unknown[] }).peers).toHaveLength(1)

    const unchanged = await list(etag)
    expect(unchanged.status).toBe(304)
    expect(await unchanged.text()).toBe('')
    expect(unchanged.headers.get('etag')).toBe(etag)

    expect((await post(server.url, '/v1/register', registerBody(makeUser('judy')))).status).toBe(200)
    const changed = await list(etag)
    expect(changed.status).toBe(200)
    expect(changed.headers.get('etag')).not.toBe(etag)
    expect(((await changed.json()) as { peers: { userId: string }[] }).peers.map((p) => p.userId)).toEqual(['ivan', 'judy'])

    expect((await post(server.url, '/v1/unregister', leaseBody(ivan, 'unregister'))).status).toBe(204)
    const left = (await (await list()).json()) as { peers: { userId: string }[] }
    expect(left.peers.map((p) => p.userId)).toEqual(['judy'])
  })
})
