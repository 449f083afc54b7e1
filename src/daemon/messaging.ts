/**
 * Sending and the trust that sending depends on: what `send`, `trust` and `history` do, in terms
 * of the stores, the outbox and the link supervisor. The checks before a send run in the order a
 * user needs to hear them: yourself, blocked, key changed, unknown peer.
 */
import { DEFAULT_HISTORY_LIMIT, DEFAULT_SEND_TIMEOUT_S } from '../protocol/defaults.js'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { fingerprint, fromHex, normalizeFingerprint } from '../protocol/identity.js'
import { newMessageId } from '../protocol/message-id.js'
import type { HistoryEntry, ParsedParamsOf, SendResult, TrustResult } from '../protocol/rpc.js'
import type { KeyConflicts } from './key-conflicts.js'
import type { LinkSupervisor } from './link-supervisor.js'
import type { MailboxSender } from './mailbox/sender.js'
import type { Outbox } from './outbox.js'
import type { PeerKeyResolver } from './peer-key-resolver.js'
import type { MessageStore, StoredMessage } from './stores/message-store.js'
import type { PeerStore } from './stores/peer-store.js'

export interface MessagingDeps {
  me: string
  peers: PeerStore
  messages: MessageStore
  outbox: Outbox
  links: Pick<LinkSupervisor, 'wake' | 'redial'>
  keyConflicts: KeyConflicts
  keys: PeerKeyResolver
  isBlocked(peer: string): boolean
  /** Leaves messages to unreachable peers in their mailbox (SPEC section 10); absent: they only wait. */
  mailbox?: Pick<MailboxSender, 'settleSend'>
}

const fingerprintOf = (key: string) => fingerprint(fromHex(key))

export class Messaging {
  constructor(private readonly deps: MessagingDeps) {}

  /**
   * Commits the message to the outbox, then waits up to `timeout` seconds for the peer's ack.
   * Not an async function: on the path of every message its suspended state was the largest
   * allocation of the sender (BENCHMARKS.md, B1); a refusal throws before anything is stored.
   */
  send({ to, text, timeout }: ParsedParamsOf<'send'>): Promise<SendResult> {
    this.refuseSend(to)
    // No wait before the enqueue when the key is known: sends to one peer keep their order.
    const known = this.deps.keys.resolve(to)
    if (typeof known === 'string') return this.sendWithKey(to, known, text, timeout)
    return known.then((peerKey) => this.sendWithKey(to, peerKey, text, timeout))
  }

  private sendWithKey(to: string, peerKey: string, text: string, timeout: number | undefined): Promise<SendResult> {
    const { outbox, links, mailbox } = this.deps
    const at = Date.now()
    const id = newMessageId(at)
    const waitMs = (timeout ?? DEFAULT_SEND_TIMEOUT_S) * 1000
    // Our fsync and the peer's run at the same time; the answer waits for both.
    return outbox
      .enqueueAndWait({ id, peer: to, peerKey, text, at }, waitMs, () => links.wake(to))
      .then((sent): SendResult | Promise<SendResult> => {
        // No link now: wait on, and answer `mailbox` once the message is left there.
        const deadline = sent.storedBy + waitMs
        if (sent.status === 'queued' && mailbox && Date.now() < deadline)
          return mailbox.settleSend(to, { id, seq: sent.seq }, sent.storedBy, deadline).then((status) => ({ id, to, status }))
        return { id, to, status: sent.status }
      })
  }

  /**
   * Accepts the key the discovery server binds to `peer` now, never whatever key some connection
   * presented. Queued messages follow the new key, and go out at once.
   */
  async trust({ peer, fingerprint: compared }: ParsedParamsOf<'trust'>): Promise<TrustResult> {
    const { peers, messages, links, keys } = this.deps
    const bound = compared === undefined ? await keys.boundKey(peer) : await this.keyWithFingerprint(peer, compared)
    const pinned = peers.get(peer)?.publicKey
    if (pinned !== bound) {
      peers.repin(peer, bound)
      messages.rekeyQueued(peer, bound)
    }
    links.redial(peer)
    return {
      peer,
      changed: pinned !== bound,
      fingerprint: fingerprintOf(bound),
      ...(pinned && pinned !== bound ? { previousFingerprint: fingerprintOf(pinned) } : {}),
    }
  }

  /**
   * The key of `peer` whose fingerprint is the one the user compared: the key a refused link
   * presented, or the one the server binds now. Never another: the user vouched for that one.
   */
  private async keyWithFingerprint(peer: string, compared: string): Promise<string> {
    const wanted = normalizeFingerprint(compared)
    const presented = this.deps.keyConflicts.get(peer)
    if (presented && fingerprintOf(presented) === wanted) return presented
    const bound = await this.deps.keys.boundKey(peer)
    if (fingerprintOf(bound) === wanted) return bound
    throw new P2PError(
      ErrorCode.FingerprintMismatch,
      `${peer}'s key has fingerprint ${fingerprintOf(presented ?? bound)}, not ${wanted}: nothing trusted. Compare again with ${peer} out of band.`,
    )
  }

  history(params: ParsedParamsOf<'history'>): HistoryEntry[] {
    return this.deps.messages
      .history({
        ...(params?.peer ? { peer: params.peer } : {}),
        limit: params?.limit ?? DEFAULT_HISTORY_LIMIT,
        includeMuted: params?.includeMuted ?? false,
      })
      .map((row) => this.toHistoryEntry(row))
  }

  private refuseSend(to: string): void {
    const { me, peers, keyConflicts, isBlocked } = this.deps
    if (to === me) throw new P2PError(ErrorCode.BadRequest, 'cannot send a message to yourself')
    if (isBlocked(to)) throw new P2PError(ErrorCode.Blocked, `${to} is blocked; unblock it first (p2p unblock ${to})`)
    const presented = keyConflicts.get(to)
    if (presented) {
      const pinned = peers.get(to)?.publicKey
      throw new P2PError(
        ErrorCode.KeyChanged,
        `${to} now presents another key (fingerprint ${fingerprintOf(presented)}; pinned ${pinned ? fingerprintOf(pinned) : 'none'}): not sending. Check with ${to} out of band.`,
      )
    }
  }

  private toHistoryEntry(row: StoredMessage): HistoryEntry {
    const { me } = this.deps
    return {
      id: row.id,
      from: row.direction === 'in' ? row.peer : me,
      to: row.direction === 'in' ? me : row.peer,
      text: row.text,
      at: new Date(row.at).toISOString(),
      ...(row.direction === 'out' && row.status ? { status: row.status === 'queued' && row.depositedAt ? 'mailbox' : row.status } : {}),
      ...(row.direction === 'in' && row.muted ? { muted: true } : {}),
    }
  }
}
