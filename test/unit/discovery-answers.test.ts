import { describe, expect, it } from 'vitest'
import { KeepaliveResponseSchema, PeerListSchema, PeerRecordSchema, RegisterResponseSchema } from '../../src/protocol/discovery.js'
import * as answers from '../../src/protocol/discovery-answers.js'
import { DeleteResponseSchema, DepositResponseSchema, FetchResponseSchema } from '../../src/protocol/mailbox.js'
import { expectAgreement } from '../helpers/fast-check.js'

const KEY = 'ab'.repeat(32)
const AT = '2026-11-27T04:00:00.000Z'
const nonObjects = [null, [], 'x', 42, true, undefined]

const register = (fields: Record<string, unknown> = {}) => ({ userId: 'alice', host: '10.0.0.1', port: 4000, expiresAt: AT, ...fields })
const peer = (fields: Record<string, unknown> = {}) => ({ userId: 'bob', publicKey: KEY, host: '::1', port: 5000, lastSeen: AT, ...fields })
const item = (fields: Record<string, unknown> = {}) => ({ id: '17', box: 'AAAA', depositedAt: AT, ...fields })

describe('the fast checks of the discovery server answers', () => {
  it('register: only what RegisterResponseSchema accepts, with the same data', () => {
    const inputs = [
      register(),
      register({ leaseKey: 'a1'.repeat(40) }),
      register({ leaseKey: 'f'.repeat(512) }),
      register({ leaseKey: 'f'.repeat(513) }),
      register({ leaseKey: '' }),
      register({ leaseKey: 'AB' }),
      register({ leaseKey: null }),
      register({ extra: 'dropped' }),
      register({ port: 0 }),
      register({ port: 65535 }),
      register({ port: 65536 }),
      register({ port: -1 }),
      register({ port: 1.5 }),
      register({ port: '4000' }),
      register({ userId: 5 }),
      register({ host: null }),
      register({ expiresAt: 1 }),
      { userId: 'alice', host: 'h', port: 1 },
      ...nonObjects,
    ]
    expect(expectAgreement(answers.fastRegisterResponse, RegisterResponseSchema, inputs)).toBeGreaterThanOrEqual(6)
  })

  it('keep-alive: only what KeepaliveResponseSchema accepts', () => {
    const inputs = [{ expiresAt: AT }, { expiresAt: AT, more: 1 }, { expiresAt: 5 }, {}, ...nonObjects]
    expect(expectAgreement(answers.fastKeepaliveResponse, KeepaliveResponseSchema, inputs)).toBe(2)
  })

  it('peer records, key records and peer lists: only what their schemas accept', () => {
    const records = [
      peer(),
      peer({ extra: 1 }),
      peer({ port: 0 }),
      peer({ port: 70000 }),
      peer({ publicKey: KEY.toUpperCase() }),
      peer({ publicKey: 'ab' }),
      peer({ publicKey: 5 }),
      peer({ host: 1 }),
      peer({ lastSeen: null }),
      { userId: 'bob', publicKey: KEY },
      ...nonObjects,
    ]
    expect(expectAgreement(answers.fastPeerRecord, PeerRecordSchema, records)).toBe(3)
    expect(expectAgreement(answers.fastKeyRecord, PeerRecordSchema.pick({ userId: true, publicKey: true }), records)).toBe(7)
    const lists = [
      { peers: [] },
      { peers: [peer(), peer({ userId: 'carol' })] },
      { peers: [peer()], next: 'abc' },
      { peers: [peer()], next: 5 },
      { peers: [peer({ port: -1 })] },
      { peers: [null] },
      { peers: {} },
      { peers: [peer()], extra: true },
      ...nonObjects,
    ]
    expect(expectAgreement(answers.fastPeerList, PeerListSchema, lists)).toBe(4)
  })

  it('mailbox fetch, deposit and delete: only what their schemas accept', () => {
    const fetches = [
      { items: [] },
      { items: [item(), item({ id: '18', extra: 1 })] },
      { items: [item()], next: '18' },
      { items: [], next: 'x' },
      { items: [item({ id: '1'.repeat(21) })] },
      { items: [item({ id: 17 })] },
      { items: [item({ box: null })] },
      { items: [item({ depositedAt: 1 })] },
      { items: [null] },
      { items: 'none' },
      {},
      ...nonObjects,
    ]
    expect(expectAgreement(answers.fastFetchResponse, FetchResponseSchema, fetches)).toBe(3)
    const deposits = [{ id: '1', expiresAt: AT }, { id: '1', expiresAt: AT, x: 1 }, { id: 'a', expiresAt: AT }, { id: '1' }, ...nonObjects]
    expect(expectAgreement(answers.fastDepositResponse, DepositResponseSchema, deposits)).toBe(2)
    const deletes = [
      { deleted: 0 },
      { deleted: 3, x: 1 },
      { deleted: -1 },
      { deleted: 1.5 },
      { deleted: 2 ** 53 },
      { deleted: '1' },
      ...nonObjects,
    ]
    expect(expectAgreement(answers.fastDeleteResponse, DeleteResponseSchema, deletes)).toBe(2)
  })
})
