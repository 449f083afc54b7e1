import type { MessageEvent } from '../protocol/rpc.js'

export type DaemonEvent = MessageEvent

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
