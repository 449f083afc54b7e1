/** The pure pieces of running several server instances: the --redis URL, --trust-proxy, index shards. */
import { describe, expect, it } from 'vitest'
import { clientAddress, parseTrustedProxies } from '../../src/server/client-address.js'
import { shardOf } from '../../src/server/redis-registry.js'
import { parseRedisUrl } from '../../src/server/redis-url.js'

describe('parseRedisUrl', () => {
  it('reads host, port, database and credentials', () => {
    expect(parseRedisUrl('redis://10.0.0.5:6380/2')).toEqual({ host: '10.0.0.5', port: 6380, db: 2 })
    expect(parseRedisUrl('redis://localhost')).toEqual({ host: 'localhost', port: 6379, db: 0 })
    expect(parseRedisUrl('redis://:s%40cret@[::1]:7000/0')).toEqual({ host: '::1', port: 7000, db: 0, password: 's@cret' })
    expect(parseRedisUrl('rediss://u:p@h/1')).toMatchObject({ host: 'h', db: 1, username: 'u', password: 'p', tls: {} })
  })

  it('reads a Unix socket path and its database', () => {
    expect(parseRedisUrl('unix:///run/redis/redis.sock')).toEqual({ path: '/run/redis/redis.sock', db: 0 })
    expect(parseRedisUrl('unix:///tmp/r.sock?db=3')).toEqual({ path: '/tmp/r.sock', db: 3 })
  })

  it('refuses what it cannot use, saying why', () => {
    expect(() => parseRedisUrl('localhost:6379')).toThrow(/scheme|not a Redis URL/)
    expect(() => parseRedisUrl('http://h:6379')).toThrow(/scheme/)
    expect(() => parseRedisUrl('redis://h/abc')).toThrow(/database/)
    expect(() => parseRedisUrl('unix://')).toThrow(/socket path|not a Redis URL/)
  })
})

describe('client address behind a proxy', () => {
  const trusted = parseTrustedProxies('10.0.0.1, ::ffff:10.0.0.2')

  it('parses the list, normalizing IPv4-mapped addresses, and refuses empty items', () => {
    expect([...trusted]).toEqual(['10.0.0.1', '10.0.0.2'])
    expect(() => parseTrustedProxies('10.0.0.1,,10.0.0.2')).toThrow(/trust-proxy/)
  })

  it('believes X-Forwarded-For only from a listed proxy', () => {
    expect(clientAddress('10.0.0.1', '203.0.113.7', trusted)).toBe('203.0.113.7')
    expect(clientAddress('198.51.100.9', '203.0.113.7', trusted)).toBe('198.51.100.9')
    expect(clientAddress('10.0.0.1', undefined, trusted)).toBe('10.0.0.1')
    expect(clientAddress('10.0.0.1', '203.0.113.7', new Set())).toBe('10.0.0.1')
  })

  it('takes the right-most hop that is not a proxy: what the client wrote itself is not believed', () => {
    expect(clientAddress('10.0.0.1', '1.2.3.4, 203.0.113.7', trusted)).toBe('203.0.113.7')
    expect(clientAddress('10.0.0.1', '203.0.113.7, 10.0.0.2', trusted)).toBe('203.0.113.7')
    expect(clientAddress('10.0.0.1', ['1.2.3.4', '::ffff:203.0.113.8'], trusted)).toBe('203.0.113.8')
    expect(clientAddress('10.0.0.1', '10.0.0.2', trusted)).toBe('10.0.0.2')
  })
})

describe('shardOf', () => {
  it('is stable and spreads ids over every shard', () => {
    expect(shardOf('alice', 16)).toBe(shardOf('alice', 16))
    const counts = new Array(16).fill(0)
    for (let i = 0; i < 16_000; i++) counts[shardOf(`user${i}`, 16)]++
    expect(Math.min(...counts)).toBeGreaterThan(700)
    expect(Math.max(...counts)).toBeLessThan(1300)
  })
})
