/**
 * What each control method does, in terms of the daemon's services. The control server has
 * already validated the params against the shared schemas.
 */
import { nanoid } from 'nanoid'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { fingerprint, fromHex } from '../protocol/identity.js'
import type { HistoryEntry, PeerInfo, PolicyResult, StatusResult } from '../protocol/rpc.js'
import type { ControlHandlers } from './control-server.js'
import type { DiscoveryClient } from './discovery-client.js'
import { type EventHub, messageEvent } from './event-hub.js'
import type { LinkManager } from './link-manager.js'
import type { OnlinePeers } from './online-peers.js'
import type { Outbox } from './outbox.js'
import { PeerKeyResolver } from './peer-key-resolver.js'
import type { MessageStore, StoredMessage } from './stores/message-store.js'
import type { PeerStore } from './stores/peer-store.js'
import type { PeerPolicy, PolicyStore } from './stores/policy-store.js'

/** How many stored messages a subscriber catching up is sent per query. */
const REPLAY_PAGE = 1000
const DEFAULT_SEND_TIMEOUT_S = 10
const DEFAULT_HISTORY_LIMIT = 50

export interface ControlServices {
  userId: string
  discovery: DiscoveryClient
  peers: PeerStore
  policy: PolicyStore
  messages: MessageStore
  outbox: Outbox
  links: LinkManager
  events: EventHub
  status(): StatusResult
  online: OnlinePeers
  shutdown(): void
}

export function controlHandlers(services: ControlServices): ControlHandlers {
  const { userId: me, discovery, peers, policy, messages, outbox, links, events, online } = services

  const mutedUntil = (p: PeerPolicy) => (p.mutedUntil !== undefined ? { mutedUntil: new Date(p.mutedUntil).toISOString() } : {})

  const policyResult = (peer: string, changed: boolean, p: PeerPolicy): PolicyResult => ({
    peer,
    changed,
    blocked: p.blocked,
    muted: p.muted,
    ...mutedUntil(p),
  })

  const peerInfo = (userId: string): PeerInfo => {
    const seen = online.get(userId)
    const known = peers.get(userId)
    const p = policy.get(userId)
    // The pinned key is the one we trust; a different one is shown as a conflict, not adopted.
    const key = known?.publicKey ?? seen?.publicKey
    const presented = links.keyConflict(userId)
    return {
      userId,
      online: seen !== undefined,
      ...(seen ? { host: seen.host, port: seen.port, lastSeen: seen.lastSeen } : {}),
      ...(key ? { fingerprint: fingerprint(fromHex(key)) } : {}),
      connected: links.isConnected(userId),
      ...(presented ? { keyChanged: true, presentedFingerprint: fingerprint(fromHex(presented)) } : {}),
      blocked: p.blocked,
      muted: p.muted,
      ...mutedUntil(p),
    }
  }

  const keys = new PeerKeyResolver(peers, discovery)

  const toHistoryEntry = (row: StoredMessage): HistoryEntry => ({
    id: row.id,
    from: row.direction === 'in' ? row.peer : me,
    to: row.direction === 'in' ? me : row.peer,
    text: row.text,
    at: new Date(row.at).toISOString(),
    ...(row.direction === 'out' && row.status ? { status: row.status } : {}),
    ...(row.direction === 'in' && row.muted ? { muted: true } : {}),
  })

  return {
    status: () => services.status(),

    discover: async () => {
      await online.refresh()
      return online.ids().sort().map(peerInfo)
    },

    peers: async () => {
      await online.refresh().catch(() => {
        // Offline from the server: answer from what we know, with online as last seen.
      })
      const ids = new Set<string>([...online.ids(), ...peers.all().map((p) => p.userId), ...policy.userIds()])
      ids.delete(me)
      return [...ids].sort().map(peerInfo)
    },

    send: async ({ to, text, timeout }) => {
      if (to === me) throw new P2PError(ErrorCode.BadRequest, 'cannot send a message to yourself')
      if (policy.isBlocked(to)) throw new P2PError(ErrorCode.Blocked, `${to} is blocked; unblock it first (p2p unblock ${to})`)
      const presented = links.keyConflict(to)
      if (presented) {
        const pinned = peers.get(to)?.publicKey
        throw new P2PError(
          ErrorCode.KeyChanged,
          `${to} now presents another key (fingerprint ${fingerprint(fromHex(presented))}; pinned ${pinned ? fingerprint(fromHex(pinned)) : 'none'}): not sending. Check with ${to} out of band.`,
        )
      }
      // No await before the enqueue when the key is known: sends to one peer keep their order.
      const known = keys.resolve(to)
      const peerKey = typeof known === 'string' ? known : await known
      const id = nanoid()
      await outbox.enqueue({ id, peer: to, peerKey, text, at: Date.now() })
      const waitMs = (timeout ?? DEFAULT_SEND_TIMEOUT_S) * 1000
      const delivery = waitMs > 0 ? outbox.waitFor(to, id, waitMs) : Promise.resolve('queued' as const)
      links.wake(to)
      return { id, to, status: await delivery }
    },

    block: ({ peer }) => {
      const { changed, policy: p } = policy.setBlocked(peer, true)
      links.block(peer)
      return policyResult(peer, changed, p)
    },

    unblock: ({ peer }) => {
      const { changed, policy: p } = policy.setBlocked(peer, false)
      // Messages queued before the block may go out now.
      if (changed && outbox.hasQueued(peer)) links.wake(peer)
      return policyResult(peer, changed, p)
    },

    mute: ({ peer, for: seconds }) => {
      const until = seconds !== undefined ? Date.now() + seconds * 1000 : undefined
      const { changed, policy: p } = policy.setMuted(peer, true, until)
      return policyResult(peer, changed, p)
    },

    trust: async ({ peer }) => {
      // The new key must be the one the discovery server binds to the name now: trust moves the
      // pin to the server's binding, never to whatever key some connection presented.
      const bound = await keys.boundKey(peer)
      const pinned = peers.get(peer)?.publicKey
      const fingerprintOf = (key: string) => fingerprint(fromHex(key))
      if (pinned === bound) {
        links.clearKeyConflict(peer)
        return { peer, changed: false, fingerprint: fingerprintOf(pinned) }
      }
      peers.repin(peer, bound)
      messages.rekeyQueued(peer, bound)
      links.clearKeyConflict(peer)
      return {
        peer,
        changed: true,
        fingerprint: fingerprintOf(bound),
        ...(pinned ? { previousFingerprint: fingerprintOf(pinned) } : {}),
      }
    },

    unmute: ({ peer }) => {
      const { changed, policy: p } = policy.setMuted(peer, false)
      return policyResult(peer, changed, p)
    },

    history: (params) =>
      messages
        .history({
          ...(params?.peer ? { peer: params.peer } : {}),
          limit: params?.limit ?? DEFAULT_HISTORY_LIMIT,
          includeMuted: params?.includeMuted ?? false,
        })
        .map(toHistoryEntry),

    subscribe: (params, client) => {
      const since = params?.since !== undefined ? Number(params.since) : undefined
      const cursor = messages.latestCursor()
      client.afterReply(() => {
        // Replay and subscription happen in one turn of the event loop: nothing published in
        // between can be missed or sent twice.
        if (since !== undefined) {
          let from = since
          for (;;) {
            const rows = messages.incomingSince(from, REPLAY_PAGE)
            for (const row of rows) client.notify('event', messageEvent(row))
            if (rows.length < REPLAY_PAGE) break
            from = (rows[rows.length - 1] as StoredMessage).seq
          }
        }
        const unsubscribe = events.subscribe((event) => client.notify('event', event))
        client.onClose(unsubscribe)
      })
      return { cursor: String(cursor) }
    },

    shutdown: (_params, client) => {
      client.afterReply(() => services.shutdown())
      return { stopping: true }
    },
  }
}
