/** The server's small pure pieces: token bucket, router, request helpers. */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { UserIdSchema } from '../../src/protocol/discovery.js'
import { isFull, takeToken } from '../../src/protocol/token-bucket.js'
import { splitTarget } from '../../src/server/app.js'
import { normalizeAddress, parseJson } from '../../src/server/http.js'
import { formatUrl } from '../../src/server/main.js'
import { defaultDbPath } from '../../src/server/paths.js'
import { RateLimiter } from '../../src/server/rate-limit.js'
import { createRouter, matchPath } from '../../src/server/router.js'
import { validationError } from '../../src/server/routes.js'

describe('token bucket', () => {
  const config = { perSecond: 10, burst: 3 }

  it('starts full and allows a burst, then refuses', () => {
    let bucket: ReturnType<typeof takeToken>['bucket'] | undefined
    const results: boolean[] = []
    for (let i = 0; i < 4; i++) {
      const r = takeToken(bucket, 1000, config)
      bucket = r.bucket
      results.push(r.allowed)
    }
    expect(results).toEqual([true, true, true, false])
  })

  it('refills at the configured rate, never above the burst', () => {
    const empty = { tokens: 0, at: 1000 }
    expect(takeToken(empty, 1050, config).allowed).toBe(false) // half a token
    expect(takeToken(empty, 1100, config).allowed).toBe(true) // one token
    expect(takeToken(empty, 60_000, config).bucket.tokens).toBe(2) // capped at 3, minus the one taken
  })

  it('does not refill when the clock goes backwards', () => {
    const r = takeToken({ tokens: 0.5, at: 5000 }, 1000, config)
    expect(r.allowed).toBe(false)
    expect(r.bucket.tokens).toBe(0.5)
  })

  it('knows when a bucket is full again', () => {
    expect(isFull({ tokens: 0, at: 0 }, 299, config)).toBe(false)
    expect(isFull({ tokens: 0, at: 0 }, 300, config)).toBe(true)
  })

  it('limits per key and forgets refilled keys', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 2 })
    expect([limiter.allow('a', 0), limiter.allow('a', 0), limiter.allow('a', 0)]).toEqual([true, true, false])
    expect(limiter.allow('b', 0)).toBe(true)
    expect(limiter.size).toBe(2)
    limiter.prune(1000)
    expect(limiter.size).toBe(1) // b has refilled, a has not
    limiter.prune(5000)
    expect(limiter.size).toBe(0)
    expect(limiter.allow('a', 5000)).toBe(true)
  })

  it('rejects a limit that could never allow anything', () => {
    expect(() => new RateLimiter({ perSecond: 0, burst: 5 })).toThrow()
    expect(() => new RateLimiter({ perSecond: 5, burst: 0 })).toThrow()
  })
})

describe('router', () => {
  it('matches literal and parameter segments', () => {
    expect(matchPath('/v1/peers/:userId', '/v1/peers/bob')).toEqual({ userId: 'bob' })
    expect(matchPath('/v1/peers', '/v1/peers')).toEqual({})
    expect(matchPath('/v1/peers/:userId', '/v1/peers/')).toBeUndefined()
    expect(matchPath('/v1/peers/:userId', '/v1/peers/bob/x')).toBeUndefined()
    expect(matchPath('/v1/peers', '/v1/peerz')).toBeUndefined()
  })

  it('tells a wrong method from an unknown path', () => {
    const route = createRouter([
      { method: 'GET', path: '/a', handler: 1 },
      { method: 'POST', path: '/a', handler: 2 },
      { method: 'GET', path: '/b/:id', handler: 3 },
    ])
    expect(route('POST', '/a')).toEqual({ kind: 'found', handler: 2, params: {} })
    expect(route('GET', '/b/7')).toEqual({ kind: 'found', handler: 3, params: { id: '7' } })
    expect(route('PUT', '/a')).toEqual({ kind: 'wrong_method', allow: ['GET', 'POST'] })
    expect(route('GET', '/c')).toEqual({ kind: 'not_found' })
  })

  it('splits a request target without resolving it against a host', () => {
    expect(splitTarget('/v1/peers?limit=2&cursor=b')).toMatchObject({ path: '/v1/peers' })
    expect(splitTarget('/v1/peers?limit=2').query.get('limit')).toBe('2')
    expect(splitTarget('//evil.example/healthz').path).toBe('//evil.example/healthz')
    expect([...splitTarget('/healthz').query]).toEqual([])
  })
})

describe('request helpers', () => {
  it('strips the v4-mapped prefix and nothing else', () => {
    expect(normalizeAddress('::ffff:192.0.2.7')).toBe('192.0.2.7')
    expect(normalizeAddress('::1')).toBe('::1')
    expect(normalizeAddress('2001:db8::ffff:1')).toBe('2001:db8::ffff:1')
    expect(normalizeAddress(undefined)).toBeUndefined()
  })

  it('parses JSON or throws a 400', () => {
    expect(parseJson(Buffer.from('{"a":1}'))).toEqual({ a: 1 })
    expect(() => parseJson(Buffer.from('{'))).toThrow(expect.objectContaining({ status: 400, code: 'bad_request' }))
  })

  it('names the field at fault, and gives an ill-formed user id its own code', () => {
    const schema = z.strictObject({ userId: UserIdSchema, port: z.number() })
    const badId = validationError(schema.safeParse({ userId: '-x', port: 1 }).error!)
    expect(badId).toMatchObject({ status: 400, code: 'invalid_user_id' })
    expect(badId.message).toMatch(/^userId: /)
    const badPort = validationError(schema.safeParse({ userId: 'x', port: 'one' }).error!)
    expect(badPort).toMatchObject({ status: 400, code: 'bad_request' })
    expect(badPort.message).toMatch(/^port: /)
    expect(validationError(schema.safeParse({ userId: 7, port: 1 }).error!).code).toBe('bad_request')
  })

  it('formats listening URLs, bracketing IPv6', () => {
    expect(formatUrl('0.0.0.0', 5000)).toBe('http://0.0.0.0:5000')
    expect(formatUrl('::', 80)).toBe('http://[::]:80')
  })

  it('puts the default database under XDG_DATA_HOME, else ~/.local/share', () => {
    expect(defaultDbPath({ XDG_DATA_HOME: '/data' })).toBe('/data/p2p-server/registry.db')
    expect(defaultDbPath({})).toMatch(/\.local\/share\/p2p-server\/registry\.db$/)
  })
})
