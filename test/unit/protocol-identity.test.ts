import { describe, expect, it } from 'vitest'
import { fingerprint, fromHex, generateIdentity, identityFromSeed, sign, toHex, verify } from '../../src/protocol/identity.js'

// RFC 8032, section 7.1, TEST 1.
const SECRET = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'
const PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'
const SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'

describe('Ed25519 identity', () => {
  it('derives the RFC 8032 public key from its secret', () => {
    expect(toHex(identityFromSeed(fromHex(SECRET)).publicKey)).toBe(PUBLIC)
  })

  it('signs the empty message exactly as RFC 8032 test 1', () => {
    expect(toHex(sign(identityFromSeed(fromHex(SECRET)), new Uint8Array()))).toBe(SIGNATURE)
  })

  it('verifies the RFC 8032 signature and rejects any change', () => {
    expect(verify(fromHex(PUBLIC), new Uint8Array(), fromHex(SIGNATURE))).toBe(true)
    expect(verify(fromHex(PUBLIC), Buffer.from('x'), fromHex(SIGNATURE))).toBe(false)
    const bad = fromHex(SIGNATURE)
    bad[0]! ^= 1
    expect(verify(fromHex(PUBLIC), new Uint8Array(), bad)).toBe(false)
  })

  it('treats wrong lengths and non-points as bad signatures, never throws', () => {
    expect(verify(fromHex(PUBLIC).subarray(1), new Uint8Array(), fromHex(SIGNATURE))).toBe(false)
    expect(verify(fromHex(PUBLIC), new Uint8Array(), fromHex(SIGNATURE).subarray(1))).toBe(false)
    expect(verify(Buffer.alloc(32, 0xff), new Uint8Array(), fromHex(SIGNATURE))).toBe(false)
  })

  it('round-trips a fresh identity', () => {
    const id = generateIdentity()
    expect(id.publicKey).toHaveLength(32)
    expect(id.seed).toHaveLength(32)
    const msg = Buffer.from('hello')
    expect(verify(id.publicKey, msg, sign(id, msg))).toBe(true)
    expect(verify(generateIdentity().publicKey, msg, sign(id, msg))).toBe(false)
    expect(toHex(identityFromSeed(id.seed).publicKey)).toBe(toHex(id.publicKey))
  })

  it('refuses a seed that is not 32 bytes', () => {
    expect(() => identityFromSeed(Buffer.alloc(31))).toThrow(/32 bytes/)
  })

  it('fingerprints a key as five groups of four hex digits, stable and key-specific', () => {
    const fp = fingerprint(fromHex(PUBLIC))
    expect(fp).toMatch(/^[0-9a-f]{4}(-[0-9a-f]{4}){4}$/)
    expect(fingerprint(fromHex(PUBLIC))).toBe(fp)
    expect(fingerprint(generateIdentity().publicKey)).not.toBe(fp)
  })

  it('converts hex both ways', () => {
    expect(toHex(fromHex('00ff10'))).toBe('00ff10')
    expect([...fromHex('0a0b')]).toEqual([10, 11])
  })
})
