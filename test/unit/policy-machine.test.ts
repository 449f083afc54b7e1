import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import { createPolicyActor, dueMutes, endDueMutes, expiryDelay, type PolicyEmitted } from '../../src/daemon/policy.machine.js'
import { type Db, openDatabase } from '../../src/daemon/stores/database.js'
import { type PeerPolicy, PolicyStore } from '../../src/daemon/stores/policy-store.js'

const T0 = Date.parse('2030-01-01T00:00:00Z')
const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE

const dirs: string[] = []
const dbs: Db[] = []
afterEach(() => {
  for (const db of dbs.splice(0)) db.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tempDbPath() {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-'))
  dirs.push(dir)
  return join(dir, 'profile.db')
}

/** A policy actor over a real SQLite file, its clock and `now()` advanced together. */
function start(path = tempDbPath(), startAt = T0) {
  const db = openDatabase(path)
  dbs.push(db)
  const clock = new SimulatedClock()
  clock.set(startAt)
  const heard: PolicyEmitted[] = []
  const policy = createPolicyActor(new PolicyStore(db), { clock, now: () => clock.now() })
  for (const type of ['blocked', 'unblocked', 'muteEnded'] as const) policy.actor.on(type, (event) => heard.push(event))
  const advance = (ms: number) => clock.increment(ms)
  return { policy, heard, advance, path, db }
}

describe('policy actor', () => {
  it('ends a timed mute at its time and says so once', () => {
    const { policy, heard, advance } = start()
    expect(policy.mute('bob', T0 + 10 * MINUTE)).toEqual({
      changed: true,
      policy: { blocked: false, muted: true, mutedUntil: T0 + 10 * MINUTE },
    })
    advance(10 * MINUTE - 1)
    expect(policy.isMuted('bob')).toBe(true)
    expect(heard).toEqual([])
    advance(1)
    expect(policy.isMuted('bob')).toBe(false)
    expect(heard).toEqual([{ type: 'muteEnded', peer: 'bob' }])
    advance(DAY)
    expect(heard).toHaveLength(1)
  })

  it('ends several mutes in the order they run out', () => {
    const { policy, heard, advance } = start()
    policy.mute('carol', T0 + 3 * MINUTE)
    policy.mute('bob', T0 + 1 * MINUTE)
    policy.mute('dave') // until unmuted
    policy.mute('erin', T0 + 3 * MINUTE)
    advance(MINUTE)
    expect(heard).toEqual([{ type: 'muteEnded', peer: 'bob' }])
    advance(2 * MINUTE)
    expect(heard.map((e) => e.peer)).toEqual(['bob', 'carol', 'erin'])
    expect(policy.isMuted('dave')).toBe(true)
  })

  it('a timer that fires late ends everything due by then, earliest first', () => {
    const { policy, heard, advance } = start()
    policy.mute('carol', T0 + 3 * MINUTE)
    policy.mute('bob', T0 + MINUTE)
    advance(10 * MINUTE)
    expect(heard.map((e) => e.peer)).toEqual(['bob', 'carol'])
  })

  it('unmuting before the time cancels the ending; muting again moves it', () => {
    const { policy, heard, advance } = start()
    policy.mute('bob', T0 + MINUTE)
    expect(policy.unmute('bob').changed).toBe(true)
    policy.mute('carol', T0 + MINUTE)
    advance(30_000)
    expect(policy.mute('carol', T0 + 5 * MINUTE).changed).toBe(true)
    advance(DAY)
    expect(heard).toEqual([{ type: 'muteEnded', peer: 'carol' }])
    expect(policy.isMuted('bob')).toBe(false)
  })

  it('a re-mute extends: nothing ends at the first time', () => {
    const { policy, heard, advance } = start()
    policy.mute('bob', T0 + MINUTE)
    policy.mute('bob', T0 + 2 * MINUTE)
    advance(MINUTE)
    expect(heard).toEqual([])
    expect(policy.isMuted('bob')).toBe(true)
    advance(MINUTE)
    expect(heard).toEqual([{ type: 'muteEnded', peer: 'bob' }])
  })

  it('a mute longer than a timer can hold still ends at its time', () => {
    const { policy, heard, advance } = start()
    policy.mute('bob', T0 + 30 * DAY)
    advance(30 * DAY - 1)
    expect(heard).toEqual([])
    advance(1)
    expect(heard).toEqual([{ type: 'muteEnded', peer: 'bob' }])
  })

  it('block and unblock announce a change once and are idempotent', () => {
    const { policy, heard } = start()
    expect(policy.block('bob')).toEqual({ changed: true, policy: { blocked: true, muted: false } })
    expect(policy.block('bob')).toEqual({ changed: false, policy: { blocked: true, muted: false } })
    expect(policy.isBlocked('bob')).toBe(true)
    expect(policy.unblock('bob').changed).toBe(true)
    expect(policy.unblock('bob').changed).toBe(false)
    expect(policy.unmute('bob').changed).toBe(false)
    expect(heard).toEqual([
      { type: 'blocked', peer: 'bob' },
      { type: 'unblocked', peer: 'bob' },
    ])
    expect(policy.userIds()).toEqual(['bob'])
  })

  it('a block keeps the mute, and a mute ending keeps the block', () => {
    const { policy, heard, advance } = start()
    policy.mute('bob', T0 + MINUTE)
    policy.block('bob')
    advance(MINUTE)
    expect(policy.get('bob')).toEqual({ blocked: true, muted: false })
    expect(heard.map((e) => e.type)).toEqual(['blocked', 'muteEnded'])
  })

  it('survives a restart: the policy is read back, and a mute that ran out meanwhile reads as not muted', () => {
    const first = start()
    first.policy.block('bob')
    first.policy.mute('carol')
    first.policy.mute('dave', T0 + MINUTE)
    first.policy.mute('erin', T0 + 10 * MINUTE)
    first.policy.stop()
    first.db.close()
    dbs.splice(dbs.indexOf(first.db), 1)

    const second = start(first.path, T0 + 5 * MINUTE)
    const { policy } = second
    expect(policy.get('bob')).toEqual({ blocked: true, muted: false })
    expect(policy.isMuted('carol')).toBe(true)
    expect(policy.isMuted('dave')).toBe(false)
    expect(policy.get('erin')).toEqual({ blocked: false, muted: true, mutedUntil: T0 + 10 * MINUTE })
    second.advance(5 * MINUTE)
    // Dave's mute ended while the daemon was down: only Erin's is heard ending.
    expect(second.heard).toEqual([{ type: 'muteEnded', peer: 'erin' }])
    expect(new PolicyStore(second.db).get('erin', T0)).toEqual({ blocked: false, muted: false })
  })

  it('a write from inside its own listener is queued and says it has no answer yet', () => {
    const { policy } = start()
    const errors: unknown[] = []
    policy.actor.on('blocked', () => {
      try {
        policy.mute('bob')
      } catch (error) {
        errors.push(error)
      }
    })
    policy.block('bob')
    expect(errors).toEqual([new Error('policy actor busy: a write from inside its own listener is queued, answer unknown')])
    expect(policy.isMuted('bob')).toBe(true)
  })

  it('a failed SQLite write reaches the caller and onError; reads keep the last good policy', () => {
    const db = openDatabase(tempDbPath())
    const failures: unknown[] = []
    const policy = createPolicyActor(new PolicyStore(db), { onError: (error) => failures.push(error) })
    policy.block('bob')
    db.close()
    expect(() => policy.mute('bob')).toThrow(/not open/)
    expect(failures).toHaveLength(1)
    expect(policy.get('bob')).toEqual({ blocked: true, muted: false })
  })

  it('writes throw once the actor is stopped; reads still answer', () => {
    const { policy } = start()
    policy.block('bob')
    policy.stop()
    expect(() => policy.unblock('bob')).toThrow('policy actor stopped')
    expect(policy.isBlocked('bob')).toBe(true)
  })
})

describe('dueMutes / expiryDelay / endDueMutes (pure)', () => {
  const policies: Record<string, PeerPolicy> = {
    bob: { blocked: false, muted: true, mutedUntil: 300 },
    carol: { blocked: false, muted: true, mutedUntil: 100 },
    dave: { blocked: true, muted: true },
    erin: { blocked: false, muted: false },
    frank: { blocked: false, muted: true, mutedUntil: 200 },
  }

  it('lists the mutes due at now, earliest first, and the next expiry ahead', () => {
    expect(dueMutes(policies, 50)).toEqual({ due: [], next: 100 })
    expect(dueMutes(policies, 200)).toEqual({ due: ['carol', 'frank'], next: 300 })
    expect(dueMutes(policies, 300)).toEqual({ due: ['carol', 'frank', 'bob'] })
    expect(dueMutes({}, 0)).toEqual({ due: [] })
  })

  it('sets the timer for the next expiry, at once when one is due, capped at a day, none without timed mutes', () => {
    expect(expiryDelay(policies, 50)).toBe(50)
    expect(expiryDelay(policies, 100)).toBe(0)
    expect(expiryDelay({ bob: { blocked: false, muted: true, mutedUntil: 40 * DAY } }, 0)).toBe(DAY)
    expect(expiryDelay({ dave: { blocked: true, muted: true } }, 0)).toBeUndefined()
  })

  it('ends the due mutes, keeping blocks, and says which ended', () => {
    const ended = endDueMutes({ ...policies, carol: { blocked: true, muted: true, mutedUntil: 100 } }, 200)
    expect(ended.writes).toEqual([
      { peer: 'carol', policy: { blocked: true, muted: false } },
      { peer: 'frank', policy: { blocked: false, muted: false } },
    ])
    expect(ended.notices).toEqual([
      { type: 'muteEnded', peer: 'carol' },
      { type: 'muteEnded', peer: 'frank' },
    ])
    expect(ended.policies.bob).toEqual(policies.bob)
  })
})
