import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { DiscoveryError } from '../../src/daemon/discovery-client.js'
import { EventHub } from '../../src/daemon/event-hub.js'
import { KeyConflicts } from '../../src/daemon/key-conflicts.js'
import { MailboxReceiver } from '../../src/daemon/mailbox/receiver.js'
import { MessageStore } from '../../src/daemon/stores/message-store.js'
import { PeerStore } from '../../src/daemon/stores/peer-store.js'
import { NO_SYNC } from '../../src/daemon/stores/wal-sync.js'
import { WriteBatcher } from '../../src/daemon/stores/write-batcher.js'
import { generateIdentity, type Identity, toHex } from '../../src/protocol/identity.js'
import { seal } from '../../src/protocol/sealed-message.js'
import { tempDb } from '../helpers/temp-db.js'

const bob = { userId: 'bob', identity: generateIdentity() }
const toBob = { userId: 'bob', publicKey: toHex(bob.identity.publicKey) }
const alice = generateIdentity()
const sealed = (from: string, identity: Identity, id: string, text: string) =>
  seal({ kind: 'message', from, id, at: 1_000, text }, identity, toBob).toString('base64')

/** A mailbox server in memory: pages of two, the bindings given, or unreachable for key lookups. */
function fakeServer(bindings: Record<string, string | 'unreachable'>) {
  const items: Array<{ id: string; box: string }> = []
  let nextId = 1
  return {
    items,
    add: (box: string) => items.push({ id: String(nextId++), box }),
    discovery: {
      fetchMailbox: async (after?: string) => {
        const rest = items.filter((i) => after === undefined || Number(i.id) > Number(after))
        const page = rest.slice(0, 2).map((i) => ({ ...i, depositedAt: new Date().toISOString() }))
        return { items: page, ...(rest.length > 2 ? { next: page.at(-1)!.id } : {}) }
      },
      deleteFromMailbox: async (ids: string[]) => {
        for (const id of ids)
          items.splice(
            items.findIndex((i) => i.id === id),
            1,
          )
        return ids.length
      },
      keyOf: async (userId: string) => {
        const key = bindings[userId]
        if (key === 'unreachable') throw new DiscoveryError(0, 'server_unreachable', 'down')
        return key
      },
      deposit: async () => ({ id: '1', expiresAt: '' }),
    },
  }
}

function receiverFor(server: ReturnType<typeof fakeServer>) {
  const db = tempDb()
  const messages = new MessageStore(db)
  const peers = new PeerStore(db)
  const keyConflicts = new KeyConflicts()
  const receiver = new MailboxReceiver({
    me: 'bob',
    identity: bob.identity,
    discovery: server.discovery,
    peers,
    keyConflicts,
    policy: { isBlocked: () => false, isMuted: () => false },
    messages,
    batcher: new WriteBatcher(db, NO_SYNC),
    events: new EventHub(),
    outbox: { ackedByMailbox: () => {} },
    linkTo: () => undefined,
    log: pino({ level: 'silent' }),
  })
  return { receiver, messages, peers, keyConflicts }
}

describe('MailboxReceiver', () => {
  it('stores items in deposit order across pages, once each, pins the sender, and empties the mailbox', async () => {
    const server = fakeServer({ alice: toHex(alice.publicKey) })
    for (const [i, text] of ['one', 'two', 'three', 'two again'].entries())
      server.add(sealed('alice', alice, i === 3 ? 'message-2' : `message-${i + 1}`, text))
    const { receiver, messages, peers } = receiverFor(server)
    expect(await receiver.drain()).toBe(4)
    expect(messages.history({ limit: 10, includeMuted: true }).map((m) => m.text)).toEqual(['one', 'two', 'three'])
    expect(peers.get('alice')?.publicKey).toBe(toHex(alice.publicKey))
    expect(server.items).toEqual([])
  })

  it('refuses a sender whose key changed from the pin, and reports it as a key change', async () => {
    const newKey = generateIdentity()
    const server = fakeServer({ alice: toHex(newKey.publicKey) })
    server.add(sealed('alice', newKey, 'message-1', 'from a reinstalled alice'))
    const { receiver, messages, peers, keyConflicts } = receiverFor(server)
    peers.pin('alice', toHex(alice.publicKey))
    expect(await receiver.drain()).toBe(1)
    expect(messages.history({ limit: 10, includeMuted: true })).toEqual([])
    expect(keyConflicts.get('alice')).toBe(toHex(newKey.publicKey))
  })

  it('keeps an item from a user never met while the server cannot say whose key it is', async () => {
    const server = fakeServer({ alice: 'unreachable' })
    server.add(sealed('alice', alice, 'message-1', 'later'))
    const { receiver, messages } = receiverFor(server)
    expect(await receiver.drain()).toBe(0)
    expect(server.items).toHaveLength(1)
    expect(messages.history({ limit: 10, includeMuted: true })).toEqual([])
  })
})
