import type { Db } from './database.js'

export interface PeerPolicy {
  blocked: boolean
  muted: boolean
  /** ms since epoch; undefined while muted means until unmuted. */
  mutedUntil?: number
}

const NONE: PeerPolicy = { blocked: false, muted: false }

/** Pure: is a mute in force at `now`? Expired mutes simply stop applying; no timer is needed. */
export function isMuted(policy: PeerPolicy, now: number): boolean {
  return policy.muted && (policy.mutedUntil === undefined || policy.mutedUntil > now)
}

/**
 * Blocks and mutes, persisted. Reads are served from memory (every incoming message asks), writes
 * go through to SQLite at once.
 */
export class PolicyStore {
  private readonly cache = new Map<string, PeerPolicy>()
  private readonly upsert

  constructor(db: Db) {
    const rows = db
      .prepare<[], { user_id: string; blocked: number; muted: number; muted_until: number | null }>('SELECT * FROM policy')
      .all()
    for (const row of rows) {
      this.cache.set(row.user_id, {
        blocked: row.blocked === 1,
        muted: row.muted === 1,
        ...(row.muted_until !== null ? { mutedUntil: row.muted_until } : {}),
      })
    }
    this.upsert = db.prepare(
      `INSERT INTO policy (user_id, blocked, muted, muted_until) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET blocked = excluded.blocked, muted = excluded.muted, muted_until = excluded.muted_until`,
    )
  }

  get(userId: string, now = Date.now()): PeerPolicy {
    const policy = this.cache.get(userId) ?? NONE
    // An expired mute reads as not muted.
    return policy.muted && !isMuted(policy, now) ? { blocked: policy.blocked, muted: false } : policy
  }

  isBlocked(userId: string): boolean {
    return this.cache.get(userId)?.blocked === true
  }

  isMuted(userId: string, now = Date.now()): boolean {
    return this.get(userId, now).muted
  }

  /** Every user id with a policy row (for `peers`). */
  userIds(): string[] {
    return [...this.cache.keys()]
  }

  setBlocked(userId: string, blocked: boolean, now = Date.now()): { changed: boolean; policy: PeerPolicy } {
    const before = this.get(userId, now)
    return this.write(userId, before, { ...before, blocked })
  }

  /** Mutes until `until` (ms since epoch), or until unmuted when `until` is undefined. */
  setMuted(userId: string, muted: boolean, until?: number, now = Date.now()): { changed: boolean; policy: PeerPolicy } {
    const before = this.get(userId, now)
    return this.write(userId, before, { blocked: before.blocked, muted, ...(muted && until !== undefined ? { mutedUntil: until } : {}) })
  }

  private write(userId: string, before: PeerPolicy, after: PeerPolicy): { changed: boolean; policy: PeerPolicy } {
    const changed = after.blocked !== before.blocked || after.muted !== before.muted || after.mutedUntil !== before.mutedUntil
    if (changed) {
      this.upsert.run(userId, after.blocked ? 1 : 0, after.muted ? 1 : 0, after.mutedUntil ?? null)
      this.cache.set(userId, after)
    }
    return { changed, policy: after }
  }
}
