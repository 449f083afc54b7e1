/**
 * Offline delivery through the mailbox (SPEC section 10), with real processes: the built server
 * with its SQLite file, real daemons in temp profiles, the built CLI.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { signFetch } from '../../src/protocol/mailbox.js'
import type { HistoryEntry } from '../../src/protocol/rpc.js'
import { openSealed, seal } from '../../src/protocol/sealed-message.js'
import { type DaemonProcess, eventually, p2p, startDaemonProcess, status } from '../helpers/daemon.js'
import { restartServerProcess, type ServerProcess, startServerProcess } from '../helpers/server.js'
import { freshTs, get, makeUser, post, registerBody, type User } from '../server/support.js'

/** Deposits after half a second without a link, and polls the mailbox often: tests wait in seconds. */
const MAILBOX_ENV = { P2P_MAILBOX_AFTER_MS: '500', P2P_MAILBOX_POLL_MS: '200', P2P_MAILBOX_POLL_MAX_MS: '1000' }
const LONG = { timeout: 40_000 }

const running: Array<DaemonProcess | ServerProcess> = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()))
})

async function daemon(serverUrl: string, options: { userId?: string; home?: string }): Promise<DaemonProcess> {
  const d = await startDaemonProcess({ serverUrl, env: MAILBOX_ENV, ...options })
  running.push(d)
  await eventually(async () => (await status(d)).server.registered, LONG)
  return d
}

async function stop(d: DaemonProcess): Promise<void> {
  running.splice(running.indexOf(d), 1)
  expect(await d.stop()).toBe(0)
}

const historyWith = (d: DaemonProcess, peer: string) => d.rpc<HistoryEntry[]>('history', { peer, limit: 1000 })
const texts = (entries: HistoryEntry[], from: string) => entries.filter((e) => e.from === from).map((e) => e.text)

/** A user the server binds, offline now: started once, then stopped. */
async function boundButOffline(serverUrl: string, userId: string): Promise<string> {
  const d = await daemon(serverUrl, { userId })
  await stop(d)
  return d.home
}

describe('the mailbox', () => {
  it('alice writes to bob, who is offline and never met her; alice stops, the server restarts, bob starts and has it; alice later sees delivered', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'p2p-mailbox-e2e-')), 'registry.db')
    let server = await startServerProcess({ db })
    running.push(server)
    const bobHome = await boundButOffline(server.url, 'bob')
    const alice = await daemon(server.url, { userId: 'alice' })

    const secret = 'meet me at the old mill at nine'
    const first = await p2p(['msg', 'bob', secret, '--json', '--timeout', '30'], { home: alice.home })
    expect(first.code).toBe(0)
    expect(JSON.parse(first.stdout)).toMatchObject({ to: 'bob', status: 'mailbox' })
    const human = await p2p(['msg', 'bob', 'second', '--timeout', '30'], { home: alice.home })
    expect(human.stdout).toBe('mailbox\n')
    expect((await alice.rpc('send', { to: 'bob', text: 'third', timeout: 30 })).status).toBe('mailbox')
    expect((await historyWith(alice, 'bob')).map((e) => e.status)).toEqual(['mailbox', 'mailbox', 'mailbox'])
    expect((await p2p(['history', 'bob'], { home: alice.home })).stdout).toMatch(/alice -> bob: third {2}\(mailbox\)\n$/)
    expect((await status(alice)).mailbox).toMatchObject({ deposited: 3 })

    await stop(alice)
    running.splice(running.indexOf(server), 1)
    expect(await server.stop()).toBe(0)
    // The server's file holds the sealed items, never the text or who wrote them.
    for (const file of [db, `${db}-wal`]) {
      const bytes = (() => {
        try {
          return readFileSync(file)
        } catch {
          return Buffer.alloc(0)
        }
      })()
      expect(bytes.includes(Buffer.from(secret))).toBe(false)
      expect(bytes.includes(Buffer.from('second'))).toBe(false)
    }
    server = await restartServerProcess(server.port, { db })
    running.push(server)

    const bob = await daemon(server.url, { home: bobHome })
    await eventually(async () => texts(await historyWith(bob, 'alice'), 'alice').length === 3, LONG)
    expect(texts(await historyWith(bob, 'alice'), 'alice')).toEqual([secret, 'second', 'third'])
    // Counted once acknowledged and deleted at the server, a moment after the items are stored.
    await eventually(async () => (await status(bob)).mailbox?.received === 3, LONG)
    await stop(bob)

    // alice comes back while bob is offline: his acknowledgement waits in her mailbox.
    const aliceAgain = await daemon(server.url, { home: alice.home })
    await eventually(async () => (await historyWith(aliceAgain, 'bob')).every((e) => e.status === 'delivered'), LONG)
    expect((await status(aliceAgain)).mailbox).toMatchObject({ deposited: 0 })
    expect((await status(aliceAgain)).outbox.queued).toBe(0)
  }, 120_000)

  it('exactly once and in order when bob drains his mailbox while alice, online, sends the same messages directly', async () => {
    const server = await startServerProcess()
    running.push(server)
    const bobHome = await boundButOffline(server.url, 'bob')
    const alice = await daemon(server.url, { userId: 'alice' })
    const sent = Array.from({ length: 40 }, (_, i) => `race ${i}`)
    for (const text of sent) await alice.rpc('send', { to: 'bob', text, timeout: 0 })
    await eventually(async () => (await status(alice)).mailbox?.deposited === sent.length, LONG)

    const bob = await daemon(server.url, { home: bobHome })
    await eventually(async () => (await historyWith(alice, 'bob')).every((e) => e.status === 'delivered'), LONG)
    await eventually(async () => (await status(bob)).mailbox?.received === sent.length, LONG)
    expect(texts(await historyWith(bob, 'alice'), 'alice')).toEqual(sent)
  }, 120_000)

  it("bob refuses tampered and forged items, drops a blocked sender's, stores a muted one as muted, and acknowledges into the sender's mailbox", async () => {
    const server = await startServerProcess()
    running.push(server)
    const bob = await daemon(server.url, { userId: 'bob' })
    await bob.rpc('block', { peer: 'carol' })
    await bob.rpc('mute', { peer: 'dave' })
    const [alice, carol, dave, erin, mallory] = ['alice', 'carol', 'dave', 'erin', 'mallory'].map((id) => makeUser(id)) as User[]
    for (const u of [alice, carol, dave, erin, mallory]) expect((await post(server.url, '/v1/register', registerBody(u!))).status).toBe(200)
    const bobKey = { userId: 'bob', publicKey: (await get(server.url, '/v1/keys/bob')).json.publicKey as string }
    const sealFrom = (u: User, text: string, from = u.userId) =>
      seal({ kind: 'message', from, id: `${u.userId}-msg-1`, at: Date.now(), text }, u.identity, bobKey)
    const tampered = sealFrom(erin!, 'tampered text')
    tampered[60]! ^= 1
    const items = [
      tampered,
      // mallory signs with her own key and says she is alice, whose id is bound to another key.
      sealFrom(mallory!, 'forged text', 'alice'),
      sealFrom(carol!, 'blocked text'),
      sealFrom(dave!, 'muted text'),
      sealFrom(erin!, 'genuine text'),
    ]
    for (const box of items) {
      expect((await post(server.url, '/v1/mailbox/deposit', { to: 'bob', box: box.toString('base64') })).status).toBe(201)
    }
    await eventually(async () => (await status(bob)).mailbox?.received === items.length, LONG)
    const stored = await bob.rpc<HistoryEntry[]>('history', { includeMuted: true })
    expect(stored.map((e) => [e.from, e.text, e.muted ?? false])).toEqual([
      ['dave', 'muted text', true],
      ['erin', 'genuine text', false],
    ])
    // erin hears the acknowledgement in her own mailbox, sealed by bob; carol, blocked, hears nothing.
    const mailboxOf = async (u: User) =>
      (await post(server.url, '/v1/mailbox/fetch', signFetch(u.identity, { userId: u.userId, ts: freshTs() }))).json.items as Array<{
        box: string
      }>
    const acks = await eventually(async () => {
      const found = await mailboxOf(erin!)
      return found.length > 0 ? found : undefined
    }, LONG)
    const opened = openSealed(Buffer.from(acks[0]!.box, 'base64'), erin!)
    expect(opened).toMatchObject({ ok: true, senderKey: bobKey.publicKey, content: { kind: 'ack', from: 'bob', ids: ['erin-msg-1'] } })
    expect(await mailboxOf(carol!)).toEqual([])
    expect(await mailboxOf(mallory!)).toEqual([])
  }, 120_000)

  it('a full mailbox keeps the message queued at the sender, with the reason in status, and it is delivered later all the same', async () => {
    const server = await startServerProcess({ args: ['--mailbox-quota', '2'] })
    running.push(server)
    const bobHome = await boundButOffline(server.url, 'bob')
    const alice = await daemon(server.url, { userId: 'alice' })
    const statuses: string[] = []
    for (const text of ['one', 'two', 'three']) statuses.push((await alice.rpc('send', { to: 'bob', text, timeout: 30 })).status)
    expect(statuses).toEqual(['mailbox', 'mailbox', 'queued'])
    const after = await status(alice)
    expect(after.mailbox).toMatchObject({ deposited: 2, error: expect.stringMatching(/^mailbox_full/) })
    expect(after.outbox.queued).toBe(3)

    const bob = await daemon(server.url, { home: bobHome })
    await eventually(async () => (await historyWith(alice, 'bob')).every((e) => e.status === 'delivered'), LONG)
    expect(texts(await historyWith(bob, 'alice'), 'alice')).toEqual(['one', 'two', 'three'])
  }, 120_000)

  it("chat says the message was left in the peer's mailbox", async () => {
    const server = await startServerProcess()
    running.push(server)
    await boundButOffline(server.url, 'bob')
    const alice = await daemon(server.url, { userId: 'alice' })
    const chat = await p2p(['chat'], { home: alice.home, input: '/msg bob are you there?\n', env: MAILBOX_ENV })
    expect(chat.code).toBe(0)
    expect(chat.stdout).toContain("left in bob's mailbox")
  }, 60_000)
})
