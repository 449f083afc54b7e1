/**
 * The mailbox's parts put together for the daemon: the sender, the receiver and the actor that
 * runs their rounds. `services.ts` makes one; `status` reads it; a registration pokes it.
 */
import type { Logger } from 'pino'
import { type Actor, createActor } from 'xstate'
import type { Identity } from '../../protocol/identity.js'
import type { MailboxTiming } from '../config.js'
import type { DiscoveryClient } from '../discovery-client.js'
import type { EventHub } from '../event-hub.js'
import type { KeyConflicts } from '../key-conflicts.js'
import type { Outbox } from '../outbox.js'
import type { Db } from '../stores/database.js'
import { DepositStore } from '../stores/deposit-store.js'
import type { MessageStore } from '../stores/message-store.js'
import type { PeerStore } from '../stores/peer-store.js'
import type { WriteBatcher } from '../stores/write-batcher.js'
import { mailboxMachineFor } from './mailbox.machine.js'
import { MailboxReceiver } from './receiver.js'
import { MailboxSender } from './sender.js'

export interface MailboxServiceDeps {
  db: Db
  me: string
  identity: Identity
  discovery: DiscoveryClient
  messages: MessageStore
  peers: PeerStore
  outbox: Outbox
  batcher: WriteBatcher
  events: EventHub
  keyConflicts: KeyConflicts
  links: {
    isConnected(peer: string): boolean
    isDialing(peer: string): boolean
    connectionOf(peer: string): { send(frame: { t: 'ack'; id: string }): void } | undefined
  }
  policy: { isBlocked(peer: string): boolean; isMuted(peer: string): boolean }
  timing: MailboxTiming
  log: Logger
}

export type MailboxService = ReturnType<typeof startMailbox>

export function startMailbox(deps: MailboxServiceDeps) {
  const { db, me, identity, discovery, messages, peers, outbox, batcher, events, keyConflicts, links, policy, timing, log } = deps
  const deposits = new DepositStore(db)
  const sender = new MailboxSender({
    me,
    identity,
    deposits,
    messages,
    discovery,
    outbox,
    // Not while a dial runs: on a slow machine or network a link may take longer than the
    // deposit delay to come up, and the message would be answered `mailbox` for a peer online.
    mayDeposit: (peer) =>
      !links.isConnected(peer) && !links.isDialing(peer) && !policy.isBlocked(peer) && keyConflicts.get(peer) === undefined,
    depositAfterMs: timing.depositAfterMs,
    log,
  })
  const receiver = new MailboxReceiver({
    me,
    identity,
    discovery,
    peers,
    keyConflicts,
    policy,
    messages,
    batcher,
    events,
    outbox,
    linkTo: (peer) => links.connectionOf(peer),
    log,
  })
  const actor: Actor<ReturnType<typeof mailboxMachineFor>> = createActor(
    mailboxMachineFor(async () => {
      // A failing deposit is the sender's to report; the drain's failure is the round's.
      const deposited = await sender.depositAll()
      return { moved: deposited + (await receiver.drain()) }
    }),
    { input: { poll: timing.poll } },
  )
  actor.subscribe({ error: (error) => log.error({ err: error }, 'mailbox actor failed') })
  actor.start()
  return {
    sender,
    /** Fetch now: the daemon just registered, so whatever waits for it can come. */
    poke: () => actor.send({ type: 'POKE' }),
    status: () => {
      const error = actor.getSnapshot().context.lastError ?? sender.lastError
      return { deposited: deposits.depositedCount(), received: receiver.received, ...(error ? { error } : {}) }
    },
    stop: () => actor.stop(),
  }
}
