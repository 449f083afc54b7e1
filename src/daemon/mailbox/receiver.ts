/**
 * The receiving side of the mailbox (SPEC section 10): fetch what waits in my mailbox, open each
 * item, check who wrote it against the key the server binds to that user id and my own pin (the
 * same decision as for a link: peer-auth.ts), store it like a message that came over a link
 * (dedupe by sender key and id, muted stored as muted), acknowledge it, then delete it at the
 * server. Items are handled in the order they were deposited, which is the order each sender sent.
 *
 * What is deleted unread: items that do not open or verify (they never will), items from users I
 * blocked, items from a key that is not that user's (impostors, key changes: reported as a link
 * would be). What stays for the next fetch: items from a user I never met while the server cannot
 * say which key it binds to the name.
 */
import type { Logger } from 'pino'
import type { Identity } from '../../protocol/identity.js'
import { MAX_ACK_IDS, openSealed, seal } from '../../protocol/sealed-message.js'
import { type DiscoveryClient, DiscoveryError } from '../discovery-client.js'
import { type EventHub, messageEvent } from '../event-hub.js'
import type { KeyConflicts } from '../key-conflicts.js'
import type { Outbox } from '../outbox.js'
import { decidePeer } from '../peer-auth.js'
import type { MessageStore } from '../stores/message-store.js'
import type { PeerStore } from '../stores/peer-store.js'
import type { WriteBatcher } from '../stores/write-batcher.js'

export interface MailboxReceiverDeps {
  me: string
  identity: Identity
  discovery: Pick<DiscoveryClient, 'fetchMailbox' | 'deleteFromMailbox' | 'keyOf' | 'deposit'>
  peers: PeerStore
  keyConflicts: KeyConflicts
  policy: { isBlocked(peer: string): boolean; isMuted(peer: string): boolean }
  messages: Pick<MessageStore, 'receive'>
  batcher: WriteBatcher
  events: EventHub
  outbox: Pick<Outbox, 'ackedByMailbox'>
  /** The live link to `peer`, to acknowledge on it directly. */
  linkTo(peer: string): { send(frame: { t: 'ack'; id: string }): void } | undefined
  log: Logger
}

type Verdict =
  | { kind: 'accept'; sender: string; senderKey: string; content: ReturnType<typeof openedContent> }
  | { kind: 'drop' }
  | { kind: 'keep' }

const openedContent = (opened: Extract<ReturnType<typeof openSealed>, { ok: true }>) => opened.content

/** Acknowledgements owed, per sender. */
type Acks = Map<string, { key: string; ids: string[] }>

export class MailboxReceiver {
  /** Items taken from my mailbox since the daemon started. */
  received = 0

  constructor(private readonly deps: MailboxReceiverDeps) {}

  /** Takes everything waiting in my mailbox; returns how many items were handled. */
  async drain(): Promise<number> {
    let handled = 0
    let after: string | undefined
    do {
      const page = await this.deps.discovery.fetchMailbox(after)
      // One key lookup per sender per page, however many items it left.
      const boundKeys = new Map<string, Promise<string | undefined | 'unreachable'>>()
      const acks: Acks = new Map()
      const done: string[] = []
      const stored: Promise<unknown>[] = []
      for (const item of page.items) {
        const verdict = await this.check(Buffer.from(item.box, 'base64'), boundKeys)
        if (verdict.kind === 'keep') continue
        done.push(item.id)
        if (verdict.kind === 'accept') stored.push(this.accept(verdict, acks))
      }
      await Promise.all(stored)
      await this.acknowledge(acks)
      if (done.length > 0) await this.deps.discovery.deleteFromMailbox(done)
      handled += done.length
      this.received += done.length
      after = page.next
    } while (after)
    return handled
  }

  private async check(box: Buffer, boundKeys: Map<string, Promise<string | undefined | 'unreachable'>>): Promise<Verdict> {
    const { me, identity, peers, keyConflicts, policy, log } = this.deps
    const opened = openSealed(box, { userId: me, identity })
    if (!opened.ok) {
      log.warn({ reason: opened.reason }, 'dropped a mailbox item that does not open or verify')
      return { kind: 'drop' }
    }
    const sender = opened.content.from
    if (sender === me) return { kind: 'drop' }
    if (policy.isBlocked(sender)) {
      log.info({ peer: sender }, 'dropped a mailbox item from a blocked peer')
      return { kind: 'drop' }
    }
    let lookup = boundKeys.get(sender)
    if (!lookup) {
      lookup = this.deps.discovery.keyOf(sender).catch((error: unknown) => {
        if (error instanceof DiscoveryError) return 'unreachable' as const
        throw error
      })
      boundKeys.set(sender, lookup)
    }
    const bound = await lookup
    const pinned = peers.get(sender)?.publicKey
    const decision = decidePeer({
      userId: sender,
      remoteKey: opened.senderKey,
      ...(pinned ? { pinnedKey: pinned } : {}),
      ...(bound && bound !== 'unreachable' ? { boundKey: bound } : {}),
      blocked: false,
    })
    if (decision.ok) {
      if (!pinned) peers.pin(sender, opened.senderKey)
      return { kind: 'accept', sender, senderKey: opened.senderKey, content: opened.content }
    }
    // Nobody vouches for the key now, but the server may once it answers: try again later.
    if (decision.code === 'unverifiable' && bound === 'unreachable') return { kind: 'keep' }
    if (decision.code === 'key_changed') keyConflicts.record(sender, opened.senderKey)
    log.error({ peer: sender, code: decision.code }, `refused a mailbox item: ${decision.message}`)
    return { kind: 'drop' }
  }

  private accept(verdict: Extract<Verdict, { kind: 'accept' }>, acks: Acks): Promise<unknown> {
    const { messages, batcher, events, outbox, policy } = this.deps
    const { sender, senderKey, content } = verdict
    if (content.kind === 'ack') {
      for (const id of content.ids) outbox.ackedByMailbox(sender, id)
      return Promise.resolve()
    }
    const muted = policy.isMuted(sender)
    const owed = acks.get(sender) ?? { key: senderKey, ids: [] }
    owed.ids.push(content.id)
    acks.set(sender, owed)
    return batcher
      .run(() => messages.receive({ id: content.id, peer: sender, peerKey: senderKey, text: content.text, at: content.at, muted }))
      .then((seq) => {
        if (seq !== undefined && !muted)
          events.publish(messageEvent({ seq, id: content.id, peer: sender, text: content.text, at: content.at }))
      })
  }

  /**
   * Acknowledges stored items the usual ways: on the live link to the sender, else as a sealed ack
   * in the sender's mailbox. An ack that cannot be left is not fatal: the sender still has the
   * message queued, sends it when a link comes up, and hears the ack then.
   */
  private async acknowledge(acks: Acks): Promise<void> {
    const { me, identity, discovery, linkTo, log } = this.deps
    for (const [sender, { key, ids }] of acks) {
      const link = linkTo(sender)
      if (link) {
        for (const id of ids) link.send({ t: 'ack', id })
        continue
      }
      for (let i = 0; i < ids.length; i += MAX_ACK_IDS) {
        const box = seal({ kind: 'ack', from: me, at: Date.now(), ids: ids.slice(i, i + MAX_ACK_IDS) }, identity, {
          userId: sender,
          publicKey: key,
        })
        try {
          await discovery.deposit(sender, box)
        } catch (error) {
          log.info({ peer: sender, err: error }, 'could not leave an acknowledgement in the sender mailbox; it hears one on the next link')
          break
        }
      }
    }
  }
}
