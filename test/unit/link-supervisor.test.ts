import { EventEmitter } from 'node:events'
import pino from 'pino'
import { describe, expect, it, vi } from 'vitest'
import { KeyConflicts } from '../../src/daemon/key-conflicts.js'
import { LinkSupervisor, type LinkSupervisorOptions, type SupervisedConnection } from '../../src/daemon/link-supervisor.js'
import { KeyConflictError } from '../../src/daemon/peer-dialer.js'

class FakeConn extends EventEmitter {
  closed = false
  lastReceivedAt = Date.now()
  remoteKey = 'kb'
  started = false
  constructor(readonly initiatorKey: string) {
    super()
  }
  close(reason: string) {
    if (this.closed) return
    this.closed = true
    this.emit('close', reason)
  }
  ping() {}
  send() {}
  pauseFor() {}
  start() {
    this.started = true
  }
}

function harness(
  overrides: { dial?: (peerId: string) => Promise<SupervisedConnection>; linkUp?: () => void; queued?: () => boolean } = {},
) {
  const pumped: string[] = []
  const keyConflicts = new KeyConflicts()
  const outbox: LinkSupervisorOptions['outbox'] = {
    hasQueued: () => overrides.queued?.() ?? true,
    isStalled: () => false,
    linkUp: (peer) => {
      overrides.linkUp?.()
      pumped.push(peer)
    },
    linkDown: () => {},
    pump: (peer) => pumped.push(`pump ${peer}`),
  }
  const dial = vi.fn(overrides.dial ?? (async () => new FakeConn('aa') as unknown as SupervisedConnection))
  const supervisor = new LinkSupervisor({
    myKey: 'aa',
    dialer: { dial, dialDirect: () => Promise.reject(new Error('not used')), accept: () => Promise.reject(new Error('not used')) },
    router: { route: () => {} },
    outbox,
    isBlocked: () => false,
    keyConflicts,
    log: pino({ level: 'silent' }),
    timing: {
      backoff: { baseMs: 1, maxMs: 5 },
      directRetry: { baseMs: 1, maxMs: 5 },
      pingIntervalMs: 60_000,
      deadAfterMs: 180_000,
      idleLifetimeMs: 600_000,
    },
  })
  return { supervisor, dial, pumped, keyConflicts }
}

describe('link supervisor', () => {
  it('reads the link from the actor: connected once dialed, not after the link closes', async () => {
    const conn = new FakeConn('aa')
    const { supervisor, pumped } = harness({ dial: async () => conn as unknown as SupervisedConnection, queued: () => false })
    supervisor.wake('bob')
    await vi.waitFor(() => expect(supervisor.isConnected('bob')).toBe(true))
    expect(conn.started).toBe(true)
    expect(supervisor.connectedCount).toBe(1)
    // Live link: a wake goes straight to the outbox.
    supervisor.wake('bob')
    expect(pumped).toEqual(['bob', 'pump bob'])
    conn.close('gone')
    expect(supervisor.isConnected('bob')).toBe(false)
    supervisor.stop()
  })

  it('tells while a dial runs, and not once it is done', async () => {
    let finish!: (conn: SupervisedConnection) => void
    const { supervisor } = harness({ dial: () => new Promise((resolve) => (finish = resolve)), queued: () => false })
    expect(supervisor.isDialing('bob')).toBe(false)
    supervisor.wake('bob')
    await vi.waitFor(() => expect(supervisor.isDialing('bob')).toBe(true))
    finish(new FakeConn('aa') as unknown as SupervisedConnection)
    await vi.waitFor(() => expect(supervisor.isConnected('bob')).toBe(true))
    expect(supervisor.isDialing('bob')).toBe(false)
    supervisor.stop()
  })

  it('restarts a failed actor and wakes its peer again when messages wait', async () => {
    let failures = 1
    const { supervisor, dial } = harness({
      linkUp: () => {
        if (failures-- > 0) throw new Error('outbox broke')
      },
    })
    supervisor.wake('bob')
    await vi.waitFor(() => expect(supervisor.isConnected('bob')).toBe(true))
    expect(dial).toHaveBeenCalledTimes(2)
    supervisor.stop()
  })

  it('records a key conflict from a dial, and REDIAL after trust clears it and dials again', async () => {
    let key = 'old'
    const { supervisor, keyConflicts, dial } = harness({
      dial: async () => {
        if (key === 'old') throw new KeyConflictError('bob', 'ff', 'bob presented another key')
        return new FakeConn('aa') as unknown as SupervisedConnection
      },
    })
    supervisor.wake('bob')
    await vi.waitFor(() => expect(keyConflicts.get('bob')).toBe('ff'))
    key = 'new'
    supervisor.redial('bob')
    expect(keyConflicts.get('bob')).toBeUndefined()
    await vi.waitFor(() => expect(supervisor.isConnected('bob')).toBe(true))
    expect(keyConflicts.size).toBe(0)
    expect(dial.mock.calls.length).toBeGreaterThanOrEqual(2)
    supervisor.stop()
  })
})
