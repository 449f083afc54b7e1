import { describe, expect, it } from 'vitest'
import { generateIdentity, toHex } from '../../src/protocol/identity.js'
import { MAX_SEALED_BYTES, SEAL_BUCKETS } from '../../src/protocol/limits.js'
import { openSealed, type SealedContent, seal } from '../../src/protocol/sealed-message.js'

const alice = { userId: 'alice', identity: generateIdentity() }
const bob = { userId: 'bob', identity: generateIdentity() }
const carol = { userId: 'carol', identity: generateIdentity() }
const to = (u: typeof bob) => ({ userId: u.userId, publicKey: toHex(u.identity.publicKey) })
const message: SealedContent = { kind: 'message', from: 'alice', id: 'msg-00000001', at: 1_764_000_000_000, text: 'hi bob ✓' }

describe('sealed mailbox items', () => {
  it('round-trips a message and names the key that signed it', () => {
    const opened = openSealed(seal(message, alice.identity, to(bob)), bob)
    expect(opened).toEqual({ ok: true, senderKey: toHex(alice.identity.publicKey), content: message })
  })

  it('round-trips an ack of several ids', () => {
    const ack: SealedContent = { kind: 'ack', from: 'bob', at: 5, ids: ['aaaaaaaa', 'bbbbbbbbbb'] }
    expect(openSealed(seal(ack, bob.identity, to(alice)), alice)).toMatchObject({ ok: true, content: ack })
  })

  it('pads to a few bucket sizes, whatever the text length', () => {
    const sizes = new Set([1, 10, 300, 700].map((n) => seal({ ...message, text: 'x'.repeat(n) }, alice.identity, to(bob)).length))
    expect([...sizes]).toEqual([SEAL_BUCKETS[0] + 48])
    const largest = seal({ ...message, text: 'é'.repeat(32 * 1024) }, alice.identity, to(bob))
    expect(largest.length).toBe(MAX_SEALED_BYTES)
    expect(openSealed(largest, bob)).toMatchObject({ ok: true })
  })

  it('never carries the text or the sender in the clear', () => {
    const sealed = seal(message, alice.identity, to(bob))
    expect(sealed.includes(Buffer.from('hi bob'))).toBe(false)
    expect(sealed.includes(Buffer.from('alice'))).toBe(false)
    expect(sealed.includes(alice.identity.publicKey)).toBe(false)
  })

  it('refuses a tampered item', () => {
    const sealed = seal(message, alice.identity, to(bob))
    for (const at of [0, 40, sealed.length - 1]) {
      const bad = Buffer.from(sealed)
      bad[at]! ^= 1
      expect(openSealed(bad, bob)).toEqual({ ok: false, reason: 'undecryptable' })
    }
    expect(openSealed(sealed.subarray(0, 100), bob)).toMatchObject({ ok: false })
  })

  it('cannot be opened by anyone but the recipient', () => {
    expect(openSealed(seal(message, alice.identity, to(bob)), carol)).toEqual({ ok: false, reason: 'undecryptable' })
  })

  it('refuses a forged signature: a message claiming another key than the one that signed', () => {
    // mallory signs with her own key but writes alice's key into the header: the signature fails.
    const mallory = generateIdentity()
    const forger = { ...mallory, publicKey: alice.identity.publicKey }
    expect(openSealed(seal(message, forger, to(bob)), bob)).toEqual({ ok: false, reason: 'bad_signature' })
  })

  it('refuses a message re-sealed to someone else (the signature names the recipient)', () => {
    // bob forwards what alice sealed to him as if alice had written to carol: same signed bytes, other recipient.
    const forwarded = seal(message, alice.identity, to(bob))
    expect(openSealed(forwarded, carol)).toMatchObject({ ok: false })
    // Sealing alice's signed bytes to carol needs a signature over carol's id: only alice can make it.
    const bobAsAlice = { ...bob.identity, publicKey: alice.identity.publicKey }
    expect(openSealed(seal(message, bobAsAlice, to(carol)), carol)).toEqual({ ok: false, reason: 'bad_signature' })
  })

  it('refuses content it could never open', () => {
    expect(() => seal({ ...message, id: 'short' }, alice.identity, to(bob))).toThrow(/message id/)
    expect(() => seal({ ...message, text: 'x'.repeat(64 * 1024 + 1) }, alice.identity, to(bob))).toThrow(/limit/)
  })
})
