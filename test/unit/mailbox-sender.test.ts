import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { DiscoveryError } from '../../src/daemon/discovery-client.js'
import { pollDelay } from '../../src/daemon/mailbox/mailbox.machine.js'
import { MailboxSender } from '../../src/daemon/mailbox/sender.js'
import { Outbox } from '../../src/daemon/outbox.js'
import { DepositStore } from '../../src/daemon/stores/deposit-store.js'
import { MessageStore } from '../../src/daemon/stores/message-store.js'
import { NO_SYNC } from '../../src/daemon/stores/wal-sync.js'
import { WriteBatcher } from '../../src/daemon/stores/write-batcher.js'
import { generateIdentity, toHex } from '../../src/protocol/identity.js'
import { openSealed } from '../../src/protocol/sealed-message.js'
import { tempDb } from '../helpers/temp-db.js'

const bob = { userId: 'bob', identity: generateIdentity() }
const bobKey = toHex(bob.identity.publicKey)

async function setup(options: { refuseAfter?: number; refusal?: Error; linkUp?: () => boolean } = {}) {
  const db = tempDb()
  const messages = new MessageStore(db)
  const outbox = new Outbox(messages, new WriteBatcher(db, NO_SYNC))
  const deposits = new DepositStore(db)
  const boxes: string[] = []
  const discovery = {
    deposit: async (_to: string, box: Buffer) => {
      if (options.refuseAfter !== undefined && boxes.length >= options.refuseAfter) {
        throw options.refusal ?? new DiscoveryError(507, 'mailbox_full', "bob's mailbox is full")
      }
      const opened = openSealed(box, bob)
      if (!opened.ok || opened.content.kind !== 'message') throw new Error('not a sealed message to bob')
      boxes.push(opened.content.text)
      return { id: String(boxes.length), expiresAt: new Date().toISOString() }
    },
  }
  const sender = new MailboxSender({
    me: 'alice',
    identity: generateIdentity(),
    deposits,
    messages,
    discovery,
    outbox,
    mayDeposit: () => !(options.linkUp?.() ?? false),
    depositAfterMs: 0,
    log: pino({ level: 'silent' }),
  })
  /** Queues n messages for bob; returns their rows' seqs. */
  const enqueue = async (n: number) => {
    const seqs: number[] = []
    for (let i = 0; i < n; i++) {
      const { seq } = await outbox.enqueue({
        id: `message-${String(i).padStart(3, '0')}`,
        peer: 'bob',
        peerKey: bobKey,
        text: `m${i}`,
        at: i,
      })
      seqs.push(seq)
    }
    return seqs
  }
  return { sender, deposits, boxes, enqueue }
}

describe('MailboxSender', () => {
  it('deposits what is due in the order it was sent, each message once', async () => {
    const { sender, deposits, boxes, enqueue } = await setup()
    await enqueue(120)
    // Two runs asked at once run one after the other: the second finds nothing left to deposit.
    const [a, b] = await Promise.all([sender.deposit('bob'), sender.deposit('bob')])
    expect(a + b).toBe(120)
    expect(boxes).toEqual(Array.from({ length: 120 }, (_, i) => `m${i}`))
    expect(deposits.depositedCount()).toBe(120)
    expect(await sender.depositAll()).toBe(0)
  })

  it('stops at the first refusal, so the mailbox never holds a message without those before it', async () => {
    const { sender, deposits, boxes, enqueue } = await setup({ refuseAfter: 2 })
    const seqs = await enqueue(5)
    expect(await sender.deposit('bob')).toBe(2)
    expect(boxes).toEqual(['m0', 'm1'])
    expect(deposits.isDeposited(seqs[1] as number)).toBe(true)
    expect(deposits.isDeposited(seqs[2] as number)).toBe(false)
    expect(sender.lastError).toMatch(/^mailbox_full/)
  })

  it('leaves a peer the server has no mailbox for alone a while, instead of asking every round', async () => {
    const { sender, enqueue, boxes } = await setup({
      refuseAfter: 0,
      refusal: new DiscoveryError(404, 'not_found', 'bob is not bound to any key'),
    })
    await enqueue(2)
    expect(await sender.deposit('bob')).toBe(0)
    expect(sender.lastError).toMatch(/^not_found/)
    sender.lastError = undefined
    expect(await sender.deposit('bob')).toBe(0)
    expect(sender.lastError).toBeUndefined()
    expect(boxes).toEqual([])
  })

  it('deposits nothing while a link to the peer is up', async () => {
    const { sender, boxes, enqueue } = await setup({ linkUp: () => true })
    await enqueue(3)
    expect(await sender.deposit('bob')).toBe(0)
    expect(boxes).toEqual([])
  })

  it('settleSend answers mailbox once the message is due and deposited', async () => {
    const { sender, enqueue } = await setup()
    const [seq] = await enqueue(1)
    expect(await sender.settleSend('bob', { id: 'message-000', seq: seq as number }, Date.now(), Date.now() + 5000)).toBe('mailbox')
  })
})

describe('mailbox poll delay', () => {
  const poll = { baseMs: 1000, maxMs: 30_000 }
  const top = () => 1
  it('grows while rounds find nothing, up to the maximum, and restarts after one that moved something', () => {
    expect(pollDelay({ poll, idleRounds: 0, failures: 0 }, top)).toBe(1000)
    expect(pollDelay({ poll, idleRounds: 3, failures: 0 }, top)).toBe(8000)
    expect(pollDelay({ poll, idleRounds: 20, failures: 0 }, top)).toBe(30_000)
  })
  it('backs off on failures', () => {
    expect(pollDelay({ poll, idleRounds: 0, failures: 2 }, top)).toBe(4000)
  })
})

describe('MailboxSender.settleSend before the message is due', () => {
  it('answers queued at once when the message cannot be due before the deadline', async () => {
    const db = tempDb()
    const messages = new MessageStore(db)
    const outbox = new Outbox(messages, new WriteBatcher(db, NO_SYNC))
    const { seq } = await outbox.enqueue({ id: 'message-000', peer: 'bob', peerKey: bobKey, text: 'm0', at: 0 })
    const sender = new MailboxSender({
      me: 'alice',
      identity: generateIdentity(),
      deposits: new DepositStore(db),
      messages,
      discovery: { deposit: async () => ({ id: '1', expiresAt: '' }) },
      outbox,
      mayDeposit: () => true,
      depositAfterMs: 60_000,
      log: pino({ level: 'silent' }),
    })
    const now = Date.now()
    expect(await sender.settleSend('bob', { id: 'message-000', seq }, now, now + 30_000)).toBe('queued')
  })
})
