/**
 * Which key a message to `peer` is bound to: the key pinned at first contact, else the one the
 * discovery server binds to the name. Answers synchronously whenever it can, and shares one lookup
 * among all sends waiting for the same peer: sends to one peer then reach the outbox in the order
 * they arrived, and a burst of them costs the server one request, not one each.
 */
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { type DiscoveryClient, DiscoveryError } from './discovery-client.js'
import type { PeerStore } from './stores/peer-store.js'

/** How long a server answer stands in for a pin (the handshake pins the key on first contact). */
const BOUND_KEY_TTL_MS = 60_000

export class PeerKeyResolver {
  private readonly bound = new Map<string, { key: string; until: number }>()
  private readonly lookups = new Map<string, Promise<string>>()

  constructor(
    private readonly peers: PeerStore,
    private readonly discovery: DiscoveryClient,
  ) {}

  resolve(peer: string, now = Date.now()): string | Promise<string> {
    const pinned = this.peers.get(peer)
    if (pinned) return pinned.publicKey
    const cached = this.bound.get(peer)
    if (cached && cached.until > now) return cached.key
    const inFlight = this.lookups.get(peer)
    if (inFlight) return inFlight
    const lookup = this.boundKey(peer).finally(() => this.lookups.delete(peer))
    this.lookups.set(peer, lookup)
    return lookup
  }

  /**
   * Asks the server now which key it binds to `peer`: an online peer's, else (SPEC section 3) the
   * key an offline user's id stays bound to, so a message can wait for it in its mailbox.
   */
  async boundKey(peer: string): Promise<string> {
    let key: string | undefined
    try {
      // Online first: a server without GET /v1/keys still answers for online peers.
      key = (await this.discovery.lookup(peer))?.publicKey ?? (await this.discovery.keyOf(peer))
    } catch (error) {
      if (error instanceof DiscoveryError) throw new P2PError(ErrorCode.ServerUnreachable, `cannot look up ${peer}: ${error.message}`)
      throw error
    }
    if (!key)
      throw new P2PError(
        ErrorCode.UnknownPeer,
        `unknown peer "${peer}": the discovery server does not know that user id (see p2p discover)`,
      )
    const now = Date.now()
    // Expired answers are dropped now and then, so looking up many names cannot grow this forever.
    if (this.bound.size >= 1000) for (const [id, entry] of this.bound) if (entry.until <= now) this.bound.delete(id)
    this.bound.set(peer, { key, until: now + BOUND_KEY_TTL_MS })
    return key
  }
}
