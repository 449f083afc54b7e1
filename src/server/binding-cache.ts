/**
 * The key each user id is bound to, as this instance last saw it, with the lease key derived from
 * it: a keep-alive checks its proof against them without asking the registry first, and the
 * registry's own keep-alive step then confirms the binding in the same atomic step that claims the
 * nonce and renews the lease (Registry.keepalive, 'mismatch' otherwise). So an entry is only ever
 * a guess that saves a read (a round trip on Redis) and an HMAC: a stale one (the id lapsed and was
 * bound to another key) costs one extra read, never a wrong answer.
 */
import { deriveLeaseKey } from '../protocol/lease-proof.js'

interface Entry {
  publicKey: string
  /** The lease key of (userId, publicKey, instance), derived on first use. */
  leaseKey?: { instance: string | undefined; key: Buffer }
}

/** Entries kept at most; past it the oldest go first (about 250 bytes each). */
export const DEFAULT_BINDING_CACHE_SIZE = 100_000

export class BindingCache {
  readonly #entries = new Map<string, Entry>()

  constructor(readonly maxEntries = DEFAULT_BINDING_CACHE_SIZE) {}

  publicKey(userId: string): string | undefined {
    return this.#entries.get(userId)?.publicKey
  }

  remember(userId: string, publicKey: string): void {
    if (this.#entries.get(userId)?.publicKey === publicKey) return
    this.#entries.delete(userId)
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!)
    this.#entries.set(userId, { publicKey })
  }

  forget(userId: string): void {
    this.#entries.delete(userId)
  }

  /** deriveLeaseKey, remembered while the user id stays bound to `publicKey` here. */
  leaseKey(secret: Buffer, userId: string, publicKey: string, instance: string | undefined): Buffer {
    const entry = this.#entries.get(userId)
    if (entry?.publicKey !== publicKey) return deriveLeaseKey(secret, userId, publicKey, instance)
    if (entry.leaseKey && entry.leaseKey.instance === instance) return entry.leaseKey.key
    const key = deriveLeaseKey(secret, userId, publicKey, instance)
    entry.leaseKey = { instance, key }
    return key
  }
}
