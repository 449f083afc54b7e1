/**
 * The receiving half: store, then acknowledge, then publish. The ack is sent only after the
 * message is committed, so a receiver killed at any moment has either stored a message or will be
 * sent it again. Duplicates (same sender and id) are acknowledged again and not republished.
 */
import type { MsgFrame } from '../protocol/peer-frames.js'
import { type EventHub, messageEvent } from './event-hub.js'
import type { IncomingMessage, MessageStore } from './stores/message-store.js'
import type { Policies } from './stores/policy-store.js'
import { TurnGroup } from './stores/turn-group.js'
import type { Outcome, WriteBatcher } from './stores/write-batcher.js'

export interface InboxLink {
  readonly remoteKey: string
  send(frame: { t: 'ack'; id: string }): void
  close(reason: string): void
}

interface StagedMessage {
  message: IncomingMessage
  link: InboxLink
}

export class Inbox {
  /** Messages of this turn, stored together; each acked once that commit is on disk. */
  private readonly groups = new TurnGroup<StagedMessage>((staged, close) =>
    this.batcher.stage(
      () => {
        close()
        return this.store.receiveMany(staged.map((m) => m.message))
      },
      undefined,
      (outcome) => {
        close()
        for (const [i, m] of staged.entries()) this.stored(m, outcome.ok ? { ok: true, value: outcome.value[i] } : outcome)
      },
    ),
  )

  constructor(
    private readonly store: MessageStore,
    private readonly policy: Pick<Policies, 'isMuted'>,
    private readonly batcher: WriteBatcher,
    private readonly events: EventHub,
    private readonly onError: (error: unknown) => void,
  ) {}

  /**
   * Stores the message with the others of this turn, in multi-row INSERTs (about half the cost per
   * row of a statement each), then acks each once that commit is on disk.
   */
  receive(peer: string, link: InboxLink, frame: MsgFrame): void {
    const message = { id: frame.id, peer, peerKey: link.remoteKey, text: frame.text, at: frame.at, muted: this.policy.isMuted(peer) }
    this.groups.add({ message, link })
  }

  private stored({ message, link }: StagedMessage, outcome: Outcome<number | undefined>): void {
    try {
      if (!outcome.ok) throw outcome.error
      link.send({ t: 'ack', id: message.id })
      const seq = outcome.value
      if (seq !== undefined && !message.muted && this.events.size > 0) {
        this.events.publish(messageEvent({ seq, id: message.id, peer: message.peer, text: message.text, at: message.at }))
      }
    } catch (error) {
      // Not stored, so not acknowledged: closing the link makes the sender send it again later.
      this.onError(error)
      link.close('could not store an incoming message')
    }
  }
}
