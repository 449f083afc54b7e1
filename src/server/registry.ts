/**
 * What a discovery server remembers, behind one small interface. SQLite (embedded, default),
 * memory, and Redis (several stateless server instances sharing one namespace) implement it, so
 * every method is async and every decision that must be atomic across
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
  /** The daemon instance registering (see RegisterRequestSchema); undefined for plain clients. */
  instance?: string
  now: number
  expiresAt: number
  reservedUntil: number
}

export interface KeepaliveInput {
  userId: string
  /** The key the request's proof was checked against. */
  publicKey: string
  /** The proof (signature or MAC), remembered as a replay nonce until `nonceExpiresAt` (as in claimNonce). */
  nonce: string
  nonceExpiresAt: number
  instance?: string
  now: number
  expiresAt: number
  reservedUntil: number
}

export type KeepaliveOutcome = { expiresAt: number } | 'mismatch' | 'replayed' | 'gone'

/**
 * Pure: may `requested` take or renew a lease that `held` (an instance of the same key, live at
 * that moment) holds? Only two known, different instances conflict; a client that names none
 * is taken at its word, as before instances existed.
 */
export function sameHolder(held: string | undefined | null, requested: string | undefined): boolean {
  return held == null || requested === undefined || held === requested
}

/** The shared store cannot be reached (Redis down): the request may succeed later, on any instance. */
export class RegistryUnavailableError extends Error {
  override name = 'RegistryUnavailableError'
}

export interface Registry {
  /**
   * Binds `userId` to `publicKey` (unless another key holds a reservation still running at `now`)
   * and opens or refreshes its lease, atomically. Returns the peer; 'taken' when another key holds
   * the name; 'elsewhere' when another instance of the same key holds a live lease.
   */
  register(input: RegisterInput): Promise<Peer | 'taken' | 'elsewhere'>
  /** The binding, when its reservation still runs at `now`. */
  binding(userId: string, now: number): Promise<Binding | undefined>
  /**
   * A keep-alive whose proof the caller checked against `publicKey`, in one atomic step: refuses
   * with 'mismatch' unless the user id is bound to that key at `now` (the caller's key came from a
   * cache: it reads the binding again), claims the nonce ('replayed' when seen before), then extends
   * the lease live at `now` and held by `instance`, and the reservation ('gone' when there is none).
   */
  keepalive(input: KeepaliveInput): Promise<KeepaliveOutcome>
  /** Ends the lease held by `instance`, keeps the binding. True when a lease was removed. */
  unregister(userId: string, instance?: string): Promise<boolean>
  /**
   * Replay protection: true the first time (userId, sig) is seen, false afterwards; forgotten after
   * `expiresAt`. The caller derives `expiresAt` from what `sig` signs (its ts plus the window), so a
   * replay always comes with the same one (SQLite keys nonces by it).
   */
  claimNonce(userId: string, sig: string, expiresAt: number): Promise<boolean>
  /** The peer when its lease is live at `now`. */
  peer(userId: string, now: number): Promise<Peer | undefined>
  /** Live peers ordered by user id, strictly after `after`, at most `limit`. */
  onlinePeers(now: number, limit: number, after?: string): Promise<Peer[]>
  /** Forgets expired leases, nonces and reservations. Correctness never depends on it running. */
  sweep(now: number): Promise<void>
  close(): Promise<void>
  /** Whether the store answers now; a backend inside this process (SQLite, memory) leaves it out and is always healthy. */
  healthy?(): Promise<boolean>
  /**
   * A value that changes whenever presence changes through any instance (a shared registry only):
   * a server compares it to know its cached listings are stale.
   */
  presenceVersion?(): Promise<string>
  /**
   * The namespace's secret for lease proofs (lease-proof.ts): made once, then the same for every
   * instance and across restarts where the backend persists. Without it keep-alives must be signed.
   */
  leaseSecret?(): Promise<Buffer>
}
