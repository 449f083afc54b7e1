import { describe, expect, it } from 'vitest'
import { Outbox, SEND_WINDOW, SEND_WINDOW_BYTES } from '../../src/daemon/outbox.js'
import { MessageStore } from '../../src/daemon/stores/message-store.js'
import { NO_SYNC } from '../../src/daemon/stores/wal-sync.js'
import { type Outcome, WriteBatcher } from '../../src/daemon/stores/write-batcher.js'
import { tempDb } from '../helpers/temp-db.js'

/** An outbox whose store counts the text it reads back from SQLite. */
function outboxCountingReads() {
  const db = tempDb()
  const store = new MessageStore(db)
  let chars = 0
  const queuedFor = store.queuedFor.bind(store)
  store.queuedFor = (...args) => {
    const rows = queuedFor(...args)
    for (const row of rows) chars += row.text.length
    return rows
  }
  return { outbox: new Outbox(store, new WriteBatcher(db, NO_SYNC)), charsRead: () => chars }
}

describe('Outbox send window', () => {
  it('keeps at most SEND_WINDOW_BYTES of text in flight and refills as acks come', async () => {
    const db = tempDb()
    const store = new MessageStore(db)
    const outbox = new Outbox(store, new WriteBatcher(db, NO_SYNC))
    const text = 'x'.repeat(60 * 1024)
    for (let i = 0; i < 100; i++) await outbox.enqueue({ id: `big-message-${i}`, peer: 'bob', peerKey: 'kb', text, at: i })
    const sent: string[] = []
    const link = { remoteKey: 'kb', closed: false, send: (frame: { id: string }) => sent.push(frame.id) }
    outbox.linkUp('bob', link)
    const windowCount = Math.ceil(SEND_WINDOW_BYTES / text.length)
    expect(sent).toHaveLength(windowCount)
    // Acks up to half the window free it; then it fills again, in order.
    for (const id of sent.slice(0, Math.ceil(windowCount / 2) + 1)) outbox.acked('bob', link, id)
    expect(sent.length).toBeGreaterThan(windowCount)
    expect(sent).toEqual(Array.from({ length: sent.length }, (_, i) => `big-message-${i}`))
  })

  it('reads a backlog of long messages from the store no further than the byte window', async () => {
    const { outbox, charsRead } = outboxCountingReads()
    const text = 'y'.repeat(60 * 1024)
    for (let i = 0; i < 300; i++) await outbox.enqueue({ id: `long-message-${i}`, peer: 'bob', peerKey: 'kb', text, at: i })
    const sent: string[] = []
    const link = { remoteKey: 'kb', closed: false, send: (frame: { id: string }) => sent.push(frame.id) }
    outbox.linkUp('bob', link)
    expect(sent).toHaveLength(Math.ceil(SEND_WINDOW_BYTES / text.length))
    // What was read is what was sent: not the 300 messages the row window would allow.
    expect(charsRead()).toBe(sent.length * text.length)
    // Acked, all of them: the byte window, not the end of the queue, stopped each read.
    for (let round = 0; round < 20 && sent.length < 300; round++) for (const id of sent.slice()) outbox.acked('bob', link, id)
    expect(sent).toEqual(Array.from({ length: 300 }, (_, i) => `long-message-${i}`))
    expect(charsRead()).toBe(300 * text.length)
  })

  it('keeps no more than a byte window of long messages in memory while the window is full', async () => {
    const { outbox, charsRead } = outboxCountingReads()
    const sent: string[] = []
    const link = { remoteKey: 'kb', closed: false, send: (frame: { id: string }) => sent.push(frame.id) }
    // Caught up from the start: what is enqueued from now on goes out from memory.
    outbox.linkUp('bob', link)
    const text = 'z'.repeat(60 * 1024)
    const total = 150
    for (let i = 0; i < total; i++) {
      await outbox.enqueue({ id: `long-${String(i).padStart(3, '0')}`, peer: 'bob', peerKey: 'kb', text, at: i })
      outbox.pump('bob', link)
    }
    const inWindow = Math.ceil(SEND_WINDOW_BYTES / text.length)
    expect(sent).toHaveLength(inWindow)
    expect(charsRead()).toBe(0)
    // The rest outgrew a window's worth in memory, so it was let go: the next pumps read SQLite.
    expect(outbox.heldChars('bob')).toBeLessThanOrEqual(SEND_WINDOW_BYTES + text.length)
    for (let round = 0; round < 20 && sent.length < total; round++) for (const id of sent.slice()) outbox.acked('bob', link, id)
    expect(sent).toEqual(Array.from({ length: total }, (_, i) => `long-${String(i).padStart(3, '0')}`))
    expect(charsRead()).toBeGreaterThan(0)
  })
})

describe('Outbox stall detection', () => {
  it('reports a link whose messages wait too long for their acks, until an ack comes', async () => {
    const db = tempDb()
    const outbox = new Outbox(new MessageStore(db), new WriteBatcher(db, NO_SYNC))
    await outbox.enqueue({ id: 'stalled-message-1', peer: 'bob', peerKey: 'kb', text: 'hi', at: 1 })
    const link = { remoteKey: 'kb', closed: false, send: () => {} }
    const t0 = Date.now()
    outbox.linkUp('bob', link)
    expect(outbox.isStalled(link, 1000, t0 + 500)).toBe(false)
    expect(outbox.isStalled(link, 1000, t0 + 5000)).toBe(true)
    outbox.acked('bob', link, 'stalled-message-1')
    expect(outbox.isStalled(link, 1000, t0 + 5000)).toBe(false)
  })
})

describe('Outbox links', () => {
  it('starts over on a new link, and a message enqueued later goes out on pump', async () => {
    const db = tempDb()
    const outbox = new Outbox(new MessageStore(db), new WriteBatcher(db, NO_SYNC))
    await outbox.enqueue({ id: 'first-message', peer: 'bob', peerKey: 'kb', text: 'one', at: 1 })
    const sentOn = (sent: string[]) => ({ remoteKey: 'kb', closed: false, send: (frame: { id: string }) => sent.push(frame.id) })
    const old: string[] = []
    const oldLink = sentOn(old)
    outbox.linkUp('bob', oldLink)
    expect(old).toEqual(['first-message'])
    // The first link is replaced before the ack came: everything unacknowledged goes again.
    oldLink.closed = true
    const fresh: string[] = []
    const freshLink = sentOn(fresh)
    outbox.linkUp('bob', freshLink)
    expect(fresh).toEqual(['first-message'])
    await outbox.enqueue({ id: 'second-message', peer: 'bob', peerKey: 'kb', text: 'two', at: 2 })
    outbox.pump('bob', oldLink)
    expect(old).toEqual(['first-message'])
    outbox.pump('bob', freshLink)
    expect(fresh).toEqual(['first-message', 'second-message'])
  })

  it('tells whoever waits "queued" as soon as the link goes down', async () => {
    const db = tempDb()
    const outbox = new Outbox(new MessageStore(db), new WriteBatcher(db, NO_SYNC))
    await outbox.enqueue({ id: 'waiting-message', peer: 'bob', peerKey: 'kb', text: 'hi', at: 1 })
    const waiting = outbox.waitFor('bob', 'waiting-message', 60_000)
    outbox.linkDown('bob')
    expect(await waiting).toBe('queued')
  })
})

describe('Outbox answers from the peer', () => {
  it('an ack or nack for a message the link did not carry settles nothing', async () => {
    const db = tempDb()
    const store = new MessageStore(db)
    const outbox = new Outbox(store, new WriteBatcher(db, NO_SYNC))
    await outbox.enqueue({ id: 'carried-message', peer: 'bob', peerKey: 'kb', text: 'one', at: 1 })
    const bobLink = { remoteKey: 'kb', closed: false, send: () => {} }
    outbox.linkUp('bob', bobLink)
    // Carol's link claims bob's message; bob's link claims one never sent on it.
    const carolLink = { remoteKey: 'kc', closed: false, send: () => {} }
    const waiting = outbox.waitFor('bob', 'carried-message', 200)
    outbox.acked('carol', carolLink, 'carried-message')
    outbox.refused('bob', bobLink, 'never-sent-message', 'bad: nothing')
    expect(await waiting).toBe('queued')
    await new Promise((resolve) => setImmediate(resolve))
    expect(store.counts()).toEqual({ queued: 1, failed: 0 })
    // The real ack settles it.
    const settled = outbox.waitFor('bob', 'carried-message', 5000)
    outbox.acked('bob', bobLink, 'carried-message')
    expect(await settled).toBe('delivered')
    await new Promise((resolve) => setImmediate(resolve))
    expect(store.counts()).toEqual({ queued: 0, failed: 0 })
  })
})

describe('Outbox tail (rows sent from memory while the link keeps up)', () => {
  it('sends what is enqueued while caught up without reading it back from SQLite', async () => {
    const db = tempDb()
    const store = new MessageStore(db)
    let queries = 0
    const queuedFor = store.queuedFor.bind(store)
    store.queuedFor = (...args) => {
      queries++
      return queuedFor(...args)
    }
    const outbox = new Outbox(store, new WriteBatcher(db, NO_SYNC))
    const sent: string[] = []
    const link = { remoteKey: 'kb', closed: false, send: (frame: { id: string }) => sent.push(frame.id) }
    outbox.linkUp('bob', link)
    const before = queries
    for (let i = 0; i < 50; i++) {
      await outbox.enqueue({ id: `tail-message-${i}`, peer: 'bob', peerKey: 'kb', text: `t${i}`, at: i })
      outbox.pump('bob', link)
      outbox.acked('bob', link, `tail-message-${i}`)
    }
    expect(sent).toEqual(Array.from({ length: 50 }, (_, i) => `tail-message-${i}`))
    expect(queries - before).toBe(0)
  })

  it('a pump between a commit and its count does not send that row twice', async () => {
    const db = tempDb()
    const outbox = new Outbox(new MessageStore(db), new WriteBatcher(db, NO_SYNC))
    const sent: string[] = []
    const link = { remoteKey: 'kb', closed: false, send: (frame: { id: string }) => sent.push(frame.id) }
    // The batch commits in a microtask queued by enqueue; the link comes up (and reads the queue)
    // in the microtask right after it, before the enqueue has counted the row.
    const enqueued = outbox.enqueue({ id: 'raced-message', peer: 'bob', peerKey: 'kb', text: 'r', at: 0 })
    queueMicrotask(() => outbox.linkUp('bob', link))
    await enqueued
    outbox.pump('bob', link)
    expect(sent).toEqual(['raced-message'])
  })

  // The second shape fills the window (bursts past SEND_WINDOW messages) and the byte window
  // (some texts of 100 KiB), so that pumps take only part of the tail, or stop inside it.
  it.each([
    { shape: 'small bursts', trials: 20, steps: 300, maxBurst: 4, bigEvery: 0 },
    { shape: 'full windows', trials: 2, steps: 20, maxBurst: Math.round(SEND_WINDOW * 0.7), bigEvery: 20 },
  ])(
    'keeps order with no message twice and none left behind, whatever the interleaving ($shape)',
    async ({ trials, steps, maxBurst, bigEvery }) => {
      for (let trial = 0; trial < trials; trial++) {
        const db = tempDb()
        const store = new MessageStore(db)
        const outbox = new Outbox(store, new WriteBatcher(db, NO_SYNC))
        let random = trial + 1
        const next = (n: number) => {
          random = (random * 1103515245 + 12345) % 2 ** 31
          return random % n
        }
        const links: Array<{ remoteKey: string; closed: boolean; sent: string[]; send(frame: { id: string }): void }> = []
        const newLink = () => {
          const current = links.at(-1)
          if (current) current.closed = true
          const link = { remoteKey: 'kb', closed: false, sent: [] as string[], send: (frame: { id: string }) => link.sent.push(frame.id) }
          links.push(link)
          outbox.linkUp('bob', link)
        }
        newLink()
        let count = 0
        const pending: Array<Promise<unknown>> = []
        for (let step = 0; step < steps; step++) {
          const link = links.at(-1) as (typeof links)[number]
          const op = next(10)
          if (op < 5) {
            // Enqueue a burst without waiting: several rows commit in one batch before they are counted.
            for (let k = next(maxBurst) + 1; k > 0; k--) {
              const id = `m-${String(count++).padStart(6, '0')}`
              const text = bigEvery > 0 && next(bigEvery) === 0 ? id.padEnd(100 * 1024, '.') : id
              pending.push(outbox.enqueue({ id, peer: 'bob', peerKey: 'kb', text, at: 0 }).then(() => outbox.pump('bob', link)))
            }
          } else if (op < 8) {
            for (const id of link.sent.slice(0, next(link.sent.length + 1))) outbox.acked('bob', link, id)
          } else if (op === 8) {
            outbox.pump('bob', link)
          } else {
            newLink()
          }
          if (next(3) === 0) await Promise.all(pending.splice(0))
        }
        await Promise.all(pending.splice(0))
        for (const link of links) {
          // Each link carries messages in order, none twice.
          expect([...link.sent].sort()).toEqual(link.sent)
          expect(new Set(link.sent).size).toBe(link.sent.length)
        }
        // The last link, acking everything it carries, empties the outbox.
        const last = links.at(-1) as (typeof links)[number]
        for (let round = 0; round < 100 && store.counts().queued > 0; round++) {
          outbox.pump('bob', last)
          for (const id of last.sent) outbox.acked('bob', last, id)
          await new Promise((resolve) => setImmediate(resolve))
        }
        expect(store.counts().queued).toBe(0)
        expect(new Set(last.sent).size).toBe(last.sent.length)
      }
    },
    // Thousands of rows of up to 100 KiB: seconds alone, more on a busy machine.
    180_000,
  )
})

describe('Outbox.enqueueAndWait', () => {
  /** A durability the test finishes by hand. */
  const manualSync = () => {
    const waiting: Array<() => void> = []
    return { waiting, durability: { sync: () => new Promise<void>((resolve) => waiting.push(resolve)), close: () => {} } }
  }
  const turn = () => new Promise((r) => setImmediate(r))

  it('wakes the link once the row is committed, and answers once both the ack and our fsync are in', async () => {
    const db = tempDb()
    const sync = manualSync()
    const outbox = new Outbox(new MessageStore(db), new WriteBatcher(db, sync.durability))
    const sent: string[] = []
    const link = { remoteKey: 'kb', closed: false, send: (frame: { id: string }) => sent.push(frame.id) }
    outbox.linkUp('bob', link)
    let answer: { status: string } | undefined
    const sending = outbox
      .enqueueAndWait({ id: 'both-halves', peer: 'bob', peerKey: 'kb', text: 'hi', at: 1 }, 60_000, () => outbox.pump('bob', link))
      .then((a) => (answer = a))
    await turn()
    expect(sent).toEqual(['both-halves']) // committed, so it went out before our fsync
    outbox.acked('bob', link, 'both-halves')
    await turn()
    expect(answer).toBeUndefined() // acked, but not yet on our disk
    for (const finish of sync.waiting) finish()
    await sending
    expect(answer).toMatchObject({ status: 'delivered' })
  })

  it('answers queued after the fsync when it may not wait, and fails when the row cannot be stored', async () => {
    const db = tempDb()
    const outbox = new Outbox(new MessageStore(db), new WriteBatcher(db, NO_SYNC))
    let woken = 0
    const queued = await outbox.enqueueAndWait({ id: 'no-waiting', peer: 'bob', peerKey: 'kb', text: 'hi', at: 1 }, 0, () => woken++)
    expect(queued).toMatchObject({ status: 'queued' })
    expect(queued.seq).toBeGreaterThan(0)
    expect(woken).toBe(1)
    db.exec('DROP TABLE messages')
    await expect(
      outbox.enqueueAndWait({ id: 'no-table', peer: 'bob', peerKey: 'kb', text: 'hi', at: 1 }, 1000, () => woken++),
    ).rejects.toThrow(/messages/)
    expect(woken).toBe(1)
  })

  it("sends of one turn wake each peer once, with all of that turn's rows; a wake that throws fails only that peer's sends", async () => {
    const db = tempDb()
    const store = new MessageStore(db)
    const outbox = new Outbox(store, new WriteBatcher(db, NO_SYNC))
    const sent: string[] = []
    const link = { remoteKey: 'kb', closed: false, send: (frame: { id: string }) => sent.push(frame.id) }
    outbox.linkUp('bob', link)
    const wakes = { bob: 0, carol: 0 }
    const send = (peer: 'bob' | 'carol', id: string) =>
      outbox.enqueueAndWait({ id, peer, peerKey: `k-${peer}`, text: 'hi', at: 1 }, 0, () => {
        wakes[peer]++
        if (peer === 'carol') throw new Error('no way to carol')
        outbox.pump(peer, link)
      })
    const answers = [send('bob', 'b-1'), send('carol', 'c-1'), send('bob', 'b-2'), send('carol', 'c-2'), send('bob', 'b-3')].map((p) =>
      p.then(
        (value) => value.status,
        (error: Error) => error.message,
      ),
    )
    expect(await Promise.all(answers)).toEqual(['queued', 'no way to carol', 'queued', 'no way to carol', 'queued'])
    expect(wakes).toEqual({ bob: 1, carol: 1 })
    expect(sent).toEqual(['b-1', 'b-2', 'b-3'])
    // Carol's rows are stored all the same: they go out on her next link.
    expect(store.queuedFor('carol', 0, 10).map((row) => row.id)).toEqual(['c-1', 'c-2'])
  })

  it('writes later delivered marks after a turn whose marks could not be written', async () => {
    const db = tempDb()
    const store = new MessageStore(db)
    const real = new WriteBatcher(db, NO_SYNC)
    // The first record's transaction fails before its statement runs (as a failed BEGIN would).
    let failNext = true
    const batcher = {
      stage: real.stage.bind(real),
      record(write: () => unknown, committed?: (outcome: Outcome) => void) {
        if (!failNext) return real.record(write, committed)
        failNext = false
        queueMicrotask(() => committed?.({ ok: false, error: new Error('disk I/O error') }))
      },
    } as unknown as WriteBatcher
    const outbox = new Outbox(store, batcher)
    for (const id of ['mark-lost', 'mark-kept']) await outbox.enqueue({ id, peer: 'bob', peerKey: 'kb', text: id, at: 1 })
    const link = { remoteKey: 'kb', closed: false, send: () => {} }
    outbox.linkUp('bob', link)
    outbox.acked('bob', link, 'mark-lost')
    await new Promise((resolve) => setImmediate(resolve))
    outbox.acked('bob', link, 'mark-kept')
    await new Promise((resolve) => setImmediate(resolve))
    // The lost mark leaves its message queued (it goes out again and is acked again); the next is written.
    expect(store.queuedFor('bob', 0, 10).map((row) => row.id)).toEqual(['mark-lost'])
  })
})
