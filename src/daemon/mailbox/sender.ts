/**
 * The sending side of the mailbox (SPEC section 10): a queued message that has waited
 * `depositAfterMs` with no link up to its peer is sealed to the peer's key and left in the peer's
 * mailbox at the discovery server. It stays queued: the direct path still sends it when a link
 * comes up, and only the peer's acknowledgement (by either way) settles it, so a mailbox the
 * server loses costs nothing. Deposits to one peer run one at a time, in the order the messages
 * were sent, and stop at the first refusal: the peer's mailbox never holds a message without the
 * ones before it.
 */
import type { Logger } from 'pino'
import type { Identity } from '../../protocol/identity.js'
import type { DeliveryStatus } from '../../protocol/rpc.js'
import { seal } from '../../protocol/sealed-message.js'
import { type DiscoveryClient, DiscoveryError } from '../discovery-client.js'
import type { Outbox } from '../outbox.js'
import type { DepositStore } from '../stores/deposit-store.js'
import type { MessageStore } from '../stores/message-store.js'

/** Rows read per query while depositing. */
const BATCH = 50
/** How long a server that keeps no mailboxes (or none for that peer) is left alone before it is asked again. */
const DISABLED_PAUSE_MS = 5 * 60_000

export interface MailboxSenderDeps {
  me: string
  identity: Identity
  deposits: DepositStore
  messages: Pick<MessageStore, 'peersWithQueued'>
  discovery: Pick<DiscoveryClient, 'deposit'>
  outbox: Pick<Outbox, 'waitFor'>
  /** False while a link to `peer` is up, or while it is blocked or its key is in conflict: no deposit then. */
  mayDeposit(peer: string): boolean
  depositAfterMs: number
  log: Logger
}

export class MailboxSender {
  /** One deposit run per peer at a time: the tail of each peer's chain. */
  private readonly runs = new Map<string, Promise<number>>()
  private disabledUntil = 0
  /** Peers the server has no mailbox for (an id no longer bound, or a server without mailboxes): asked again later. */
  private readonly unknownUntil = new Map<string, number>()
  /** The last refusal or failure, for `status`; cleared by the next deposit that works. */
  lastError: string | undefined

  constructor(private readonly deps: MailboxSenderDeps) {}

  /** Deposits what is due for every peer with queued messages; returns how many went. */
  async depositAll(): Promise<number> {
    let total = 0
    for (const peer of this.deps.messages.peersWithQueued()) total += await this.deposit(peer)
    return total
  }

  /** Deposits, in order, what has waited long enough for `peer`; after any run already going. */
  deposit(peer: string): Promise<number> {
    const previous = this.runs.get(peer) ?? Promise.resolve(0)
    const run = previous.then(
      () => this.depositDue(peer),
      () => this.depositDue(peer),
    )
    this.runs.set(peer, run)
    const forget = () => {
      if (this.runs.get(peer) === run) this.runs.delete(peer)
    }
    // The caller hears how the run ended; this chain only tidies up, and must not raise it twice.
    run.then(forget, forget)
    return run
  }

  /**
   * What a `send` answers once its first wait ended in "queued": it keeps waiting, and when the
   * message is due for the mailbox with no link up, deposits it and answers `mailbox`. Until
   * `deadline`; a link that comes up meanwhile may still make it `delivered`.
   */
  async settleSend(peer: string, message: { id: string; seq: number }, storedAt: number, deadline: number): Promise<DeliveryStatus> {
    const { id, seq } = message
    const { outbox, deposits, depositAfterMs, mayDeposit } = this.deps
    // Not due before the deadline: "queued" now, as without a mailbox (`msg --timeout 2` to an offline peer).
    if (storedAt + depositAfterMs >= deadline && !deposits.isDeposited(seq)) return 'queued'
    for (;;) {
      const now = Date.now()
      if (deposits.isDeposited(seq)) return 'mailbox'
      if (now >= deadline) return 'queued'
      const dueAt = storedAt + depositAfterMs
      if (now < dueAt || !mayDeposit(peer)) {
        // A link that drops ends the wait early; a link that stays up gets until the deadline.
        const status = await outbox.waitFor(peer, id, Math.max(1, (mayDeposit(peer) ? Math.min(dueAt, deadline) : deadline) - now))
        if (status !== 'queued') return status
        continue
      }
      await this.deposit(peer)
      return deposits.isDeposited(seq) ? 'mailbox' : 'queued'
    }
  }

  private async depositDue(peer: string): Promise<number> {
    const { deposits, discovery, identity, me, log, mayDeposit, depositAfterMs } = this.deps
    let count = 0
    for (;;) {
      if (Date.now() < Math.max(this.disabledUntil, this.unknownUntil.get(peer) ?? 0) || !mayDeposit(peer)) return count
      const rows = deposits.due(peer, Date.now() - depositAfterMs, BATCH)
      if (rows.length === 0) return count
      for (const row of rows) {
        if (!mayDeposit(peer)) return count
        try {
          const box = seal({ kind: 'message', from: me, id: row.id, at: row.at, text: row.text }, identity, {
            userId: peer,
            publicKey: row.peerKey,
          })
          await discovery.deposit(peer, box)
        } catch (error) {
          this.refused(peer, error)
          return count
        }
        deposits.markDeposited(row.seq)
        this.lastError = undefined
        count++
      }
      if (count > 0) log.info({ peer, deposited: count }, 'left messages in the peer mailbox')
    }
  }

  private refused(peer: string, error: unknown): void {
    const code = error instanceof DiscoveryError ? error.code : 'internal'
    if (code === 'mailbox_disabled') this.disabledUntil = Date.now() + DISABLED_PAUSE_MS
    if (code === 'not_found') this.unknownUntil.set(peer, Date.now() + DISABLED_PAUSE_MS)
    this.lastError = `${code}: ${(error as Error).message}`
    // A full mailbox or a busy server is expected now and then: the messages stay queued.
    const level = code === 'mailbox_full' || code === 'rate_limited' || code === 'server_unreachable' ? 'info' : 'warn'
    this.deps.log[level](
      { peer, code, err: error instanceof DiscoveryError ? undefined : error },
      'could not leave a message in the peer mailbox',
    )
  }
}
