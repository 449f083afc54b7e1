import { describe, expect, it } from 'vitest'
import {
  canonicalBytes,
  ErrorResponseSchema,
  isFreshTimestamp,
  KeepaliveRequestSchema,
  KeepaliveResponseSchema,
  MAX_BODY_BYTES,
  PeerListQuerySchema,
  PeerListSchema,
  PeerRecordSchema,
  PublicKeySchema,
  RegisterRequestSchema,
  RegisterResponseSchema,
  signLeaseRequest,
  signRegister,
  TIMESTAMP_WINDOW_MS,
  UnregisterRequestSchema,
  UserIdSchema,
  verifySigned,
} from '../../src/protocol/discovery.js'
import { fromHex, generateIdentity, identityFromSeed, toHex } from '../../src/protocol/identity.js'

const alice = identityFromSeed(fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'))
const KEY = toHex(alice.publicKey)
const SIG = 'ab'.repeat(64)
const TS = 1_700_000_000_000

describe('limits', () => {
  it('caps bodies at 16 KiB and accepts timestamps within 30 s', () => {
    expect(MAX_BODY_BYTES).toBe(16 * 1024)
    expect(TIMESTAMP_WINDOW_MS).toBe(30_000)
  })
})

describe('UserIdSchema and PublicKeySchema', () => {
  it('normalizes valid ids to lower case and refuses invalid ones', () => {
    expect(UserIdSchema.parse('Alice')).toBe('alice')
    expect(UserIdSchema.safeParse('-alice').success).toBe(false)
    expect(UserIdSchema.safeParse(7).success).toBe(false)
  })

  it('wants 64 lower-case hex characters', () => {
    expect(PublicKeySchema.safeParse(KEY).success).toBe(true)
    expect(PublicKeySchema.safeParse(KEY.toUpperCase()).success).toBe(false)
    expect(PublicKeySchema.safeParse(KEY.slice(2)).success).toBe(false)
  })
})

describe('RegisterRequestSchema', () => {
  const valid = { userId: 'Alice', publicKey: KEY, port: 7000, ts: TS, sig: SIG }

  it('accepts a full body, with or without host, and lower-cases the id', () => {
    expect(RegisterRequestSchema.parse(valid)).toEqual({ ...valid, userId: 'alice' })
    expect(RegisterRequestSchema.parse({ ...valid, host: '192.0.2.1' }).host).toBe('192.0.2.1')
    expect(RegisterRequestSchema.parse({ ...valid, host: 'peer.example.org' }).host).toBe('peer.example.org')
    expect(RegisterRequestSchema.parse({ ...valid, host: '2001:db8::1' }).host).toBe('2001:db8::1')
  })

  it.each([
    ['a missing field', { userId: 'a', publicKey: KEY, port: 7000, ts: TS }],
    ['an extra field', { ...valid, extra: 1 }],
    ['a negative port', { ...valid, port: -1 }],
    ['port 65536', { ...valid, port: 65536 }],
    ['a fractional port', { ...valid, port: 70.5 }],
    ['a string port', { ...valid, port: '7000' }],
    ['a negative ts', { ...valid, ts: -1 }],
    ['a fractional ts', { ...valid, ts: 1.5 }],
    ['a short sig', { ...valid, sig: 'ab' }],
    ['an upper-case sig', { ...valid, sig: SIG.toUpperCase() }],
    ['a host with a scheme', { ...valid, host: 'http://x' }],
    ['an empty host', { ...valid, host: '' }],
    ['an invalid user id', { ...valid, userId: 'a b' }],
  ])('refuses %s', (_what, body) => {
    expect(RegisterRequestSchema.safeParse(body).success).toBe(false)
  })
})

describe('KeepaliveRequestSchema and UnregisterRequestSchema', () => {
  it('take exactly userId, ts and sig', () => {
    for (const schema of [KeepaliveRequestSchema, UnregisterRequestSchema]) {
      expect(schema.parse({ userId: 'BOB', ts: TS, sig: SIG })).toEqual({ userId: 'bob', ts: TS, sig: SIG })
      expect(schema.safeParse({ userId: 'bob', ts: TS }).success).toBe(false)
      expect(schema.safeParse({ userId: 'bob', ts: TS, sig: SIG, port: 1 }).success).toBe(false)
    }
  })
})

describe('response schemas', () => {
  it('describe what the server answers', () => {
    expect(RegisterResponseSchema.safeParse({ userId: 'a', host: 'h', port: 1, expiresAt: 'x' }).success).toBe(true)
    // Port 0: registered with --listen off, reachable through the relay only (SPEC section 9).
    expect(RegisterResponseSchema.safeParse({ userId: 'a', host: 'h', port: 0, expiresAt: 'x' }).success).toBe(true)
    expect(RegisterResponseSchema.safeParse({ userId: 'a', host: 'h', port: -1, expiresAt: 'x' }).success).toBe(false)
    expect(KeepaliveResponseSchema.safeParse({ expiresAt: '2024-01-01T00:00:00.000Z' }).success).toBe(true)
    expect(KeepaliveResponseSchema.safeParse({}).success).toBe(false)
    const peer = { userId: 'a', publicKey: KEY, host: 'h', port: 1, lastSeen: 'x' }
    expect(PeerRecordSchema.safeParse(peer).success).toBe(true)
    expect(PeerRecordSchema.safeParse({ ...peer, publicKey: 'k' }).success).toBe(false)
    expect(PeerListSchema.parse({ peers: [peer], next: 'a' }).next).toBe('a')
    expect(PeerListSchema.parse({ peers: [] }).next).toBeUndefined()
    expect(PeerListSchema.safeParse({ peers: [{}] }).success).toBe(false)
    expect(ErrorResponseSchema.safeParse({ error: { code: 'x', message: 'y' } }).success).toBe(true)
    expect(ErrorResponseSchema.safeParse({ error: { code: 'x' } }).success).toBe(false)
  })
})

describe('PeerListQuerySchema', () => {
  it('coerces the limit from the query string, defaulting to 100', () => {
    expect(PeerListQuerySchema.parse({})).toEqual({ limit: 100 })
    expect(PeerListQuerySchema.parse({ limit: '5', cursor: 'bob' })).toEqual({ limit: 5, cursor: 'bob' })
  })

  it.each([{ limit: '0' }, { limit: '1001' }, { limit: 'ten' }, { limit: '2.5' }, { cursor: 'x'.repeat(65) }])('refuses %j', (query) => {
    expect(PeerListQuerySchema.safeParse(query).success).toBe(false)
  })
})

describe('canonical bytes and signatures', () => {
  it('are a tagged JSON array in a fixed order', () => {
    const reg = canonicalBytes('register', { userId: 'Alice', publicKey: KEY, port: 7000, ts: TS })
    expect(reg.toString()).toBe(JSON.stringify(['p2p/v1/register', 'alice', KEY, null, 7000, TS]))
    const withHost = canonicalBytes('register', { userId: 'alice', publicKey: KEY, host: 'h', port: 7000, ts: TS })
    expect(JSON.parse(withHost.toString())[3]).toBe('h')
    expect(canonicalBytes('keepalive', { userId: 'a', ts: 1 }).toString()).toBe('["p2p/v1/keepalive","a",1]')
    expect(canonicalBytes('unregister', { userId: 'a', ts: 1 }).toString()).toBe('["p2p/v1/unregister","a",1]')
  })

  it('sign and verify a registration; any changed field breaks it', () => {
    const body = signRegister(alice, { userId: 'Alice', port: 7000, ts: TS })
    expect(body).toMatchObject({ userId: 'alice', publicKey: KEY, port: 7000, ts: TS })
    expect(body).not.toHaveProperty('host')
    expect(RegisterRequestSchema.parse(body)).toEqual(body)
    expect(verifySigned('register', body, KEY)).toBe(true)
    expect(verifySigned('register', { ...body, port: 7001 }, KEY)).toBe(false)
    expect(verifySigned('register', { ...body, ts: TS + 1 }, KEY)).toBe(false)
    expect(verifySigned('register', { ...body, host: 'elsewhere' }, KEY)).toBe(false)
    expect(verifySigned('register', body, toHex(generateIdentity().publicKey))).toBe(false)
    const hosted = signRegister(alice, { userId: 'alice', port: 7000, host: 'h.example', ts: TS })
    expect(verifySigned('register', hosted, KEY)).toBe(true)
  })

  it('bind a lease request to its action', () => {
    const ka = signLeaseRequest(alice, 'keepalive', { userId: 'ALICE', ts: TS })
    expect(ka.userId).toBe('alice')
    expect(verifySigned('keepalive', ka, KEY)).toBe(true)
    expect(verifySigned('unregister', ka, KEY)).toBe(false)
    const un = signLeaseRequest(alice, 'unregister', { userId: 'alice', ts: TS })
    expect(verifySigned('unregister', un, KEY)).toBe(true)
    expect(verifySigned('keepalive', { ...un, userId: 'bob' }, KEY)).toBe(false)
  })
})

describe('isFreshTimestamp', () => {
  it('accepts the window on both sides, inclusive, and nothing beyond', () => {
    expect(isFreshTimestamp(TS, TS)).toBe(true)
    expect(isFreshTimestamp(TS - TIMESTAMP_WINDOW_MS, TS)).toBe(true)
    expect(isFreshTimestamp(TS + TIMESTAMP_WINDOW_MS, TS)).toBe(true)
    expect(isFreshTimestamp(TS - TIMESTAMP_WINDOW_MS - 1, TS)).toBe(false)
    expect(isFreshTimestamp(TS + TIMESTAMP_WINDOW_MS + 1, TS)).toBe(false)
    expect(isFreshTimestamp(TS - 10, TS, 5)).toBe(false)
  })
})
