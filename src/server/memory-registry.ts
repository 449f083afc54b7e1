/** The `--memory` registry: plain maps, gone when the process ends. */
import { randomBytes } from 'node:crypto'
import {
  type Binding,
  type KeepaliveInput,
  type KeepaliveOutcome,
  type Peer,
  type RegisterInput,
  type Registry,
  sameHolder,
} from './registry.js'

interface LeaseRow {
  instance?: string
  host: string
  port: number
  lastSeen: number
  expiresAt: number
}

export class MemoryRegistry implements Registry {
  readonly #bindings = new Map<string, Binding>()
  readonly #leases = new Map<string, LeaseRow>()
  readonly #nonces = new Map<string, number>()

  async register(input: RegisterInput): Promise<Peer | 'taken' | 'elsewhere'> {
    const held = this.#liveBinding(input.userId, input.now)
    if (held && held.publicKey !== input.publicKey) return 'taken'
    const live = this.#liveLease(input.userId, input.now)
    if (live && !sameHolder(live.instance, input.instance)) return 'elsewhere'
    this.#bindings.set(input.userId, { userId: input.userId, publicKey: input.publicKey, reservedUntil: input.reservedUntil })
    const lease = { host: input.host, port: input.port, lastSeen: input.now, expiresAt: input.expiresAt }
    this.#leases.set(input.userId, { ...lease, ...(input.instance ? { instance: input.instance } : {}) })
    return { userId: input.userId, publicKey: input.publicKey, ...lease }
  }

  async binding(userId: string, now: number): Promise<Binding | undefined> {
    const b = this.#liveBinding(userId, now)
    return b ? { ...b } : undefined
  }

  async keepalive(input: KeepaliveInput): Promise<KeepaliveOutcome> {
    const { userId, now } = input
    if (this.#liveBinding(userId, now)?.publicKey !== input.publicKey) return 'mismatch'
    if (!this.#claim(userId, input.nonce, input.nonceExpiresAt)) return 'replayed'
    const lease = this.#liveLease(userId, now)
    const binding = this.#bindings.get(userId)
    if (!lease || !binding || !sameHolder(lease.instance, input.instance)) return 'gone'
    lease.lastSeen = now
    lease.expiresAt = input.expiresAt
    binding.reservedUntil = Math.max(binding.reservedUntil, input.reservedUntil)
    return { expiresAt: input.expiresAt }
  }

  async unregister(userId: string, instance?: string): Promise<boolean> {
    const lease = this.#leases.get(userId)
    if (!lease || !sameHolder(lease.instance, instance)) return false
    return this.#leases.delete(userId)
  }

  #liveLease(userId: string, now: number): LeaseRow | undefined {
    const lease = this.#leases.get(userId)
    return lease && lease.expiresAt > now ? lease : undefined
  }

  async claimNonce(userId: string, sig: string, expiresAt: number): Promise<boolean> {
    return this.#claim(userId, sig, expiresAt)
  }

  #claim(userId: string, sig: string, expiresAt: number): boolean {
    const key = `${userId}\n${sig}`
    if (this.#nonces.has(key)) return false
    this.#nonces.set(key, expiresAt)
    return true
  }

  async peer(userId: string, now: number): Promise<Peer | undefined> {
    return this.#livePeer(userId, now)
  }

  async onlinePeers(now: number, limit: number, after = ''): Promise<Peer[]> {
    // Sorting on every page is O(n log n); fine for the memory backend, which is for tests and small setups.
    const ids = [...this.#leases.keys()].filter((id) => id > after).sort()
    const peers: Peer[] = []
    for (const id of ids) {
      if (peers.length >= limit) break
      const peer = this.#livePeer(id, now)
      if (peer) peers.push(peer)
    }
    return peers
  }

  async sweep(now: number): Promise<void> {
    for (const [id, lease] of this.#leases) if (lease.expiresAt <= now) this.#leases.delete(id)
    for (const [key, expiresAt] of this.#nonces) if (expiresAt < now) this.#nonces.delete(key)
    for (const [id, b] of this.#bindings) if (b.reservedUntil <= now && !this.#leases.has(id)) this.#bindings.delete(id)
  }

  async close(): Promise<void> {}

  // Gone with the process, like every lease it could prove.
  readonly #leaseSecret = randomBytes(32)
  async leaseSecret(): Promise<Buffer> {
    return this.#leaseSecret
  }

  #liveBinding(userId: string, now: number): Binding | undefined {
    const b = this.#bindings.get(userId)
    return b && b.reservedUntil > now ? b : undefined
  }

  #livePeer(userId: string, now: number): Peer | undefined {
    const lease = this.#liveLease(userId, now)
    const binding = this.#bindings.get(userId)
    if (!lease || !binding) return undefined
    return {
      userId,
      publicKey: binding.publicKey,
      host: lease.host,
      port: lease.port,
      lastSeen: lease.lastSeen,
      expiresAt: lease.expiresAt,
    }
  }
}
