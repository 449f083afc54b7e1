/**
 * The control methods by name (SPEC section 8), each one line over the daemon's services. The
 * control server has already validated the params against the shared schemas.
 */
import type { PolicyResult } from '../protocol/rpc.js'
import type { ControlHandlers } from './control-server.js'
import { type EventHub, replayThenFollow } from './event-hub.js'
import type { Messaging } from './messaging.js'
import { mutedUntilField, type PeerDirectory } from './peer-directory.js'
import type { MessageStore } from './stores/message-store.js'
import type { PeerPolicy } from './stores/policy-store.js'

export interface ControlServices {
  messaging: Messaging
  directory: PeerDirectory
  policy: {
    block(peer: string): { changed: boolean; policy: PeerPolicy }
    unblock(peer: string): { changed: boolean; policy: PeerPolicy }
    mute(peer: string, until?: number): { changed: boolean; policy: PeerPolicy }
    unmute(peer: string): { changed: boolean; policy: PeerPolicy }
  }
  messages: MessageStore
  events: EventHub
  status: ControlHandlers['status']
  shutdown(): void
}

/** Pure: a policy change as the control protocol reports it. */
export const policyResult = (peer: string, { changed, policy: p }: { changed: boolean; policy: PeerPolicy }): PolicyResult => ({
  peer,
  changed,
  blocked: p.blocked,
  muted: p.muted,
  ...mutedUntilField(p),
})

export function controlHandlers(s: ControlServices): ControlHandlers {
  return {
    status: s.status,
    discover: () => s.directory.discover(),
    peers: () => s.directory.known(),
    send: (params) => s.messaging.send(params),
    trust: (params) => s.messaging.trust(params),
    history: (params) => s.messaging.history(params),
    block: ({ peer }) => policyResult(peer, s.policy.block(peer)),
    unblock: ({ peer }) => policyResult(peer, s.policy.unblock(peer)),
    mute: ({ peer, for: seconds }) =>
      policyResult(peer, s.policy.mute(peer, seconds !== undefined ? Date.now() + seconds * 1000 : undefined)),
    unmute: ({ peer }) => policyResult(peer, s.policy.unmute(peer)),
    subscribe: (params, client) => replayThenFollow(s.messages, s.events, params?.since, client),
    shutdown: (_params, client) => {
      client.afterReply(() => s.shutdown())
      return { stopping: true }
    },
  }
}
