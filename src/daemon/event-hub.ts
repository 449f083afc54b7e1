import type { DaemonEvent, MessageEvent } from '../protocol/rpc.js'
import type { ClientContext } from './control-server.js'
import type { MessageStore, StoredMessage } from './stores/message-store.js'

export type { DaemonEvent }

/** The event of a stored incoming message: the same shape live and when replayed from a cursor. */
export function messageEvent(message: { seq: number; id: string; peer: string; text: string; at: number }): MessageEvent {
  return {
    type: 'message',
    cursor: String(message.seq),
    id: message.id,
    from: message.peer,
    text: message.text,
    at: new Date(message.at).toISOString(),
  }
}

/** Fan-out of daemon events to control-socket subscribers. A throwing listener is dropped, never fatal. */
export class EventHub {
  private readonly listeners = new Set<(event: DaemonEvent) => void>()

  subscribe(listener: (event: DaemonEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  publish(event: DaemonEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        this.listeners.delete(listener)
      }
    }
  }

  get size(): number {
    return this.listeners.size
  }
}

/** How many stored messages a subscriber catching up is sent per query. */
const REPLAY_PAGE = 1000

/**
 * `subscribe`: replays what the subscriber missed since `since` (when given), then follows new
 * events. Replay and subscription happen in one turn of the event loop, right after the reply:
 * nothing published in between can be missed or sent twice.
 */
export function replayThenFollow(
  messages: Pick<MessageStore, 'latestCursor' | 'incomingSince'>,
  events: EventHub,
  since: string | undefined,
  client: Pick<ClientContext, 'notify' | 'afterReply' | 'onClose'>,
): { cursor: string } {
  const cursor = messages.latestCursor()
  client.afterReply(() => {
    if (since !== undefined) {
      let from = Number(since)
      for (;;) {
        const rows = messages.incomingSince(from, REPLAY_PAGE)
        for (const row of rows) client.notify('event', messageEvent(row))
        if (rows.length < REPLAY_PAGE) break
        from = (rows[rows.length - 1] as StoredMessage).seq
      }
    }
    client.onClose(events.subscribe((event) => client.notify('event', event)))
  })
  return { cursor: String(cursor) }
}
