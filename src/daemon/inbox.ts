/**
 * The receiving half: store, then acknowledge, then publish. The ack is sent only after the
 * message is committed, so a receiver killed at any moment has either stored a message or will be
 * sent it again. Duplicates (same sender and id) are acknowledged again and not republished.
 */
import type { MsgFrame } from '../protocol/peer-frames.js'
import { type EventHub, messageEvent } from './event-hub.js'
import type { MessageStore } from './stores/message-store.js'
import type { Policies } from './stores/policy-store.js'
import type { WriteBatcher } from './stores/write-batcher.js'

export interface InboxLink {
  readonly remoteKey: string
  send(frame: { t: 'ack'; id: string }): void
  close(reason: string): void
}

export class Inbox {
  constructor(
    private readonly store: MessageStore,
    private readonly policy: Pick<Policies, 'isMuted'>,
    private readonly batcher: WriteBatcher,
    private readonly events: EventHub,
    private readonly onError: (error: unknown) => void,
  ) {}

  receive(peer: string, link: InboxLink, frame: MsgFrame): void {
    const muted = this.policy.isMuted(peer)
    const store = () => this.store.receive({ id: frame.id, peer, peerKey: link.remoteKey, text: frame.text, at: frame.at, muted })
    // A callback, not a promise chain: this runs for every message received.
    this.batcher.stage(store, undefined, (outcome) => {
      try {
        if (!outcome.ok) throw outcome.error
        link.send({ t: 'ack', id: frame.id })
        const seq = outcome.value
        if (seq !== undefined && !muted && this.events.size > 0) {
          this.events.publish(messageEvent({ seq, id: frame.id, peer, text: frame.text, at: frame.at }))
        }
      } catch (error) {
        // Not stored, so not acknowledged: closing the link makes the sender send it again later.
        this.onError(error)
        link.close('could not store an incoming message')
      }
    })
  }
}
