/**
 * Who may hold a link, decided from facts gathered elsewhere: the key that completed the Noise
 * handshake, the key pinned at first contact, the key the discovery server binds to the user id,
 * and the block list. Pure, so every rule is a unit test.
 *
 * Two refusals must not be confused. A key that the server now binds to the name but that differs
 * from our pin is a *key change*: the user may have reinstalled, so it is reported and waits for
 * `trust`. A key that is neither pinned nor bound is an *impostor*: refused and logged, never
 * reported as a key change, or anyone could stop us writing to a peer by saying hello in its name.
 */
export type PeerAuthDecision =
  | { ok: true }
  | { ok: false; code: 'blocked' | 'key_changed' | 'key_mismatch' | 'impostor' | 'unverifiable'; message: string }

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
  if (pinnedKey === remoteKey) {
    if (boundKey !== undefined && boundKey !== remoteKey) {
      return {
        ok: false,
        code: 'key_mismatch',
        message: `${userId} presented the pinned key, but the discovery server now binds another key to that id`,
      }
    }
    return { ok: true }
  }
  if (boundKey === remoteKey) {
    if (pinnedKey === undefined) return { ok: true }
    return {
      ok: false,
      code: 'key_changed',
      message: `${userId} now has a key that differs from the one pinned at first contact (the discovery server binds the new one)`,
    }
  }
  if (boundKey === undefined && pinnedKey === undefined) {
    return {
      ok: false,
      code: 'unverifiable',
      message: `cannot verify ${userId}: no pinned key and the discovery server does not vouch for it`,
    }
  }
  return {
    ok: false,
    code: 'impostor',
    message: `a connection claimed to be ${userId} with a key that is neither pinned nor bound to that id`,
  }
}

/** Pure: is this refusal a key change worth reporting to the user (as opposed to an impostor, a block)? */
export function isKeyChange(code: Extract<PeerAuthDecision, { ok: false }>['code']): boolean {
  return code === 'key_changed'
}
