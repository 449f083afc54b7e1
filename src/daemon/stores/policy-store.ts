import type { Db } from './database.js'

export interface PeerPolicy {
  blocked: boolean
  muted: boolean
  /** ms since epoch; undefined while muted means until unmuted. */
  mutedUntil?: number
}

export interface PolicyChange {
  changed: boolean
  policy: PeerPolicy
}

/** A write to one peer's policy: block or unblock, or mute (until `until`, ms) or unmute. */
export type PolicyCommand = { blocked: boolean } | { muted: boolean; until?: number }

/**
 * What the daemon asks of blocks and mutes. PolicyStore answers it alone; the policy actor's facade
 * (policy.machine.ts) answers it too, and also tells listeners when a mute ends or a block changes.
 */
export interface Policies {
  get(userId: string): PeerPolicy
  isBlocked(userId: string): boolean
  isMuted(userId: string): boolean
  userIds(): string[]
  setBlocked(userId: string, blocked: boolean): PolicyChange
  setMuted(userId: string, muted: boolean, until?: number): PolicyChange
}

export const NO_POLICY: PeerPolicy = { blocked: false, muted: false }

/** Pure: is a mute in force at `now`? Expired mutes simply stop applying; no timer is needed. */
export function isMuted(policy: PeerPolicy, now: number): boolean {
  return policy.muted && (policy.mutedUntil === undefined || policy.mutedUntil > now)
}

/** Pure: the policy as it reads at `now`: an expired mute reads as not muted. */
export function effectivePolicy(policy: PeerPolicy, now: number): PeerPolicy {
  return policy.muted && !isMuted(policy, now) ? { blocked: policy.blocked, muted: false } : policy
}

/** Pure: `before` (as read now) after `command`, and whether anything changed. */
export function applyPolicy(before: PeerPolicy, command: PolicyCommand): PolicyChange {
  const after: PeerPolicy =
    'blocked' in command
      ? { ...before, blocked: command.blocked }
      : {
          blocked: before.blocked,
          muted: command.muted,
          ...(command.muted && command.until !== undefined ? { mutedUntil: command.until } : {}),
        }
  const changed = after.blocked !== before.blocked || after.muted !== before.muted || after.mutedUntil !== before.mutedUntil
  return { changed, policy: after }
}

/**
 * Blocks and mutes, persisted. Reads are served from memory (every incoming message asks), writes
 * go through to SQLite at once.
 */
export class PolicyStore implements Policies {
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
    return effectivePolicy(this.cache.get(userId) ?? NO_POLICY, now)
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

  /** Every stored policy as written (expired mutes included), by user id: the policy actor starts from it. */
  all(): Record<string, PeerPolicy> {
    return Object.fromEntries(this.cache)
  }

  setBlocked(userId: string, blocked: boolean, now = Date.now()): PolicyChange {
    return this.write(userId, applyPolicy(this.get(userId, now), { blocked }))
  }

  /** Mutes until `until` (ms since epoch), or until unmuted when `until` is undefined. */
  setMuted(userId: string, muted: boolean, until?: number, now = Date.now()): PolicyChange {
    return this.write(userId, applyPolicy(this.get(userId, now), { muted, until }))
  }

  /** Writes a policy decided elsewhere (the policy actor decides, this class persists). */
  put(userId: string, policy: PeerPolicy): void {
    this.upsert.run(userId, policy.blocked ? 1 : 0, policy.muted ? 1 : 0, policy.mutedUntil ?? null)
    this.cache.set(userId, policy)
  }

  private write(userId: string, change: PolicyChange): PolicyChange {
    if (change.changed) this.put(userId, change.policy)
    return change
  }
}
