/**
 * The discovery server's answers that a daemon gets in a normal day (register, keep-alive, peer
 * lookups, the mailbox), checked without zod, so that a registered, idle daemon never loads it
 * (BENCHMARKS.md, B9). Each check accepts only what its schema (discovery.ts, mailbox.ts) accepts
 * and answers the same data, unknown keys dropped; anything it is not sure of, valid or not, it
 * leaves to the schema. A unit test feeds both the same inputs.
 */
import type { KeepaliveResponse, PeerList, PeerRecord, RegisterResponse } from './discovery.js'
import type { FetchResponse } from './mailbox.js'
import { isPlainObject } from './send-request.js'

const PUBLIC_KEY = /^[0-9a-f]{64}$/
const LEASE_KEY = /^[0-9a-f]{1,512}$/
const ITEM_ID = /^[0-9]{1,20}$/

const isPort = (port: unknown): port is number => typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535
const isItemId = (id: unknown): id is string => typeof id === 'string' && ITEM_ID.test(id)

export function fastRegisterResponse(raw: unknown): RegisterResponse | undefined {
  if (!isPlainObject(raw)) return undefined
  const { userId, host, port, expiresAt, leaseKey } = raw
  if (typeof userId !== 'string' || typeof host !== 'string' || !isPort(port) || typeof expiresAt !== 'string') return undefined
  if (leaseKey === undefined) return Object.hasOwn(raw, 'leaseKey') ? undefined : { userId, host, port, expiresAt }
  return typeof leaseKey === 'string' && LEASE_KEY.test(leaseKey) ? { userId, host, port, expiresAt, leaseKey } : undefined
}

export function fastKeepaliveResponse(raw: unknown): KeepaliveResponse | undefined {
  return isPlainObject(raw) && typeof raw.expiresAt === 'string' ? { expiresAt: raw.expiresAt } : undefined
}

export function fastPeerRecord(raw: unknown): PeerRecord | undefined {
  if (!isPlainObject(raw)) return undefined
  const { userId, publicKey, host, port, lastSeen } = raw
  if (typeof userId !== 'string' || typeof publicKey !== 'string' || !PUBLIC_KEY.test(publicKey)) return undefined
  return typeof host === 'string' && isPort(port) && typeof lastSeen === 'string' ? { userId, publicKey, host, port, lastSeen } : undefined
}

/** `/v1/keys/:id`: the user id and the key bound to it. */
export function fastKeyRecord(raw: unknown): Pick<PeerRecord, 'userId' | 'publicKey'> | undefined {
  if (!isPlainObject(raw)) return undefined
  const { userId, publicKey } = raw
  return typeof userId === 'string' && typeof publicKey === 'string' && PUBLIC_KEY.test(publicKey) ? { userId, publicKey } : undefined
}

export function fastPeerList(raw: unknown): PeerList | undefined {
  if (!isPlainObject(raw) || !Array.isArray(raw.peers)) return undefined
  const peers: PeerRecord[] = []
  for (const entry of raw.peers) {
    const peer = fastPeerRecord(entry)
    if (!peer) return undefined
    peers.push(peer)
  }
  const { next } = raw
  if (next === undefined) return Object.hasOwn(raw, 'next') ? undefined : { peers }
  return typeof next === 'string' ? { peers, next } : undefined
}

export function fastFetchResponse(raw: unknown): FetchResponse | undefined {
  if (!isPlainObject(raw) || !Array.isArray(raw.items)) return undefined
  const items: FetchResponse['items'] = []
  for (const item of raw.items) {
    if (!isPlainObject(item)) return undefined
    const { id, box, depositedAt } = item
    if (!isItemId(id) || typeof box !== 'string' || typeof depositedAt !== 'string') return undefined
    items.push({ id, box, depositedAt })
  }
  const { next } = raw
  if (next === undefined) return Object.hasOwn(raw, 'next') ? undefined : { items }
  return isItemId(next) ? { items, next } : undefined
}

export function fastDepositResponse(raw: unknown): { id: string; expiresAt: string } | undefined {
  if (!isPlainObject(raw)) return undefined
  const { id, expiresAt } = raw
  return isItemId(id) && typeof expiresAt === 'string' ? { id, expiresAt } : undefined
}

export function fastDeleteResponse(raw: unknown): { deleted: number } | undefined {
  if (!isPlainObject(raw)) return undefined
  const { deleted } = raw
  return typeof deleted === 'number' && Number.isSafeInteger(deleted) && deleted >= 0 ? { deleted } : undefined
}
