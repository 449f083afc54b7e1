/**
 * What `status --verbose` shows of the actor system: every actor of the daemon's tree with its
 * parent and current state, recorded from XState's inspection API as the actors come and go.
 * The inspected system holds a handful of long-lived actors; the peer links (thousands, busy)
 * are independent actors described by their supervisor instead.
 */
import type { InspectionEvent } from 'xstate'
import type { ActorInfo } from '../protocol/rpc.js'

/** What an inspected actor is at run time (an xstate Actor): more than the ActorRef type shows. */
export interface InspectedActor {
  id: string
  sessionId: string
  systemId?: string
  _parent?: { sessionId: string }
  getSnapshot(): { status: string; value?: unknown }
}

interface Entry {
  ref: InspectedActor
  parent?: string
}

/** Pure: a snapshot's state as text: `registered`, `discovery.running`, or its status for logic without states. */
export function describeState(snapshot: { status: string; value?: unknown }): string {
  if (snapshot.status !== 'active') return snapshot.status
  return snapshot.value === undefined ? 'active' : stateText(snapshot.value)
}

function stateText(value: unknown): string {
  if (typeof value === 'string') return value
  if (value && typeof value === 'object') {
    return Object.entries(value)
      .map(([key, sub]) => (typeof sub === 'string' ? `${key}.${sub}` : `${key}.(${stateText(sub)})`))
      .join(', ')
  }
  return String(value)
}

export class ActorTree {
  private readonly entries = new Map<string, Entry>()

  /** Pass as `createActor(machine, { inspect: tree.inspect })`. */
  readonly inspect = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.actor') return
    const ref = event.actorRef as unknown as InspectedActor
    this.entries.set(ref.sessionId, { ref, ...(ref._parent ? { parent: ref._parent.sessionId } : {}) })
  }

  /** Live actors, parents before their children. */
  describe(): ActorInfo[] {
    this.forgetEnded()
    const live = [...this.entries]
    const infos: ActorInfo[] = []
    const visit = (parent: string | undefined, depth: number) => {
      for (const [sessionId, entry] of live) {
        if (entry.parent !== parent) continue
        infos.push({ id: entry.ref.systemId ?? entry.ref.id, depth, state: describeState(entry.ref.getSnapshot()) })
        visit(sessionId, depth + 1)
      }
    }
    visit(undefined, 0)
    return infos
  }

  /** Requests that finished or failed, children that were replaced: only running actors are shown. */
  private forgetEnded(): void {
    for (const [sessionId, entry] of this.entries) if (entry.ref.getSnapshot().status !== 'active') this.entries.delete(sessionId)
  }
}
