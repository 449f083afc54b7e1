/**
 * Who may hold a link, decided from facts gathered elsewhere: the key that completed the Noise
 * handshake, the key pinned at first contact, the key the discovery server binds to the user id,
 * and the block list. Pure, so every rule is a unit test.
 */
export type PeerAuthDecision =
  | { ok: true }
  | { ok: false; code: 'blocked' | 'key_changed' | 'key_mismatch' | 'unverifiable'; message: string }

export interface PeerAuthFacts {
  userId: string
  remoteKey: string
  pinnedKey?: string
  /** The discovery server's binding; undefined when the server does not know the user online or is unreachable. */
  boundKey?: string
  blocked: boolean
}

export function decidePeer(facts: PeerAuthFacts): PeerAuthDecision {
  const { userId, remoteKey, pinnedKey, boundKey } = facts
  if (facts.blocked) return { ok: false, code: 'blocked', message: `${userId} is blocked` }
  if (pinnedKey !== undefined && pinnedKey !== remoteKey) {
    return { ok: false, code: 'key_changed', message: `${userId} presented a key that differs from the one pinned at first contact` }
  }
  if (boundKey !== undefined && boundKey !== remoteKey) {
    return {
      ok: false,
      code: 'key_mismatch',
      message: `${userId} presented a key that differs from the one the discovery server binds to that id`,
    }
  }
  if (pinnedKey === undefined && boundKey === undefined) {
    return {
      ok: false,
      code: 'unverifiable',
      message: `cannot verify ${userId}: no pinned key and the discovery server does not vouch for it`,
    }
  }
  return { ok: true }
}
