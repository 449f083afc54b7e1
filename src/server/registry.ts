/**
 * What a discovery server remembers, behind one small interface. SQLite (embedded, default) and
 * memory implement it now; a Redis backend will later let several stateless server instances
 * share one namespace, so every method is async and every decision that must be atomic across
 * instances (bind-or-refuse, claim a nonce) is one call here, never a read-then-write in the server.
 *
 * Times are absolute milliseconds since the epoch, passed in by the caller: the registry keeps no
 * clock and no policy (TTL, reservation period) of its own.
 */

/** A user id bound to a public key. The binding outlives the lease until `reservedUntil`. */
export interface Binding {
  userId: string
  publicKey: string
  reservedUntil: number
}

/** An online peer: a live lease joined with the key its user id is bound to. */
export interface Peer {
  userId: string
  publicKey: string
  host: string
  port: number
  lastSeen: number
  expiresAt: number
}

export interface RegisterInput {
  userId: string
  publicKey: string
  host: string
  port: number
  now: number
  expiresAt: number
  reservedUntil: number
}

export interface Registry {
  /**
   * Binds `userId` to `publicKey` (unless another key holds a reservation still running at `now`)
   * and opens or refreshes its lease, atomically. Returns the peer, or 'taken'.
   */
  register(input: RegisterInput): Promise<Peer | 'taken'>
  /** The binding, when its reservation still runs at `now`. */
  binding(userId: string, now: number): Promise<Binding | undefined>
  /** Extends a lease that is live at `now` (and its binding's reservation); undefined when there is none. */
  renew(userId: string, now: number, expiresAt: number, reservedUntil: number): Promise<Peer | undefined>
  /** Ends the lease, keeps the binding. True when a lease was removed. */
  unregister(userId: string): Promise<boolean>
  /** Replay protection: true the first time (userId, sig) is seen, false afterwards; forgotten after `expiresAt`. */
  claimNonce(userId: string, sig: string, expiresAt: number): Promise<boolean>
  /** The peer when its lease is live at `now`. */
  peer(userId: string, now: number): Promise<Peer | undefined>
  /** Live peers ordered by user id, strictly after `after`, at most `limit`. */
  onlinePeers(now: number, limit: number, after?: string): Promise<Peer[]>
  /** Forgets expired leases, nonces and reservations. Correctness never depends on it running. */
  sweep(now: number): Promise<void>
  close(): Promise<void>
}
