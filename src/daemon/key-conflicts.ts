/**
 * Peers that presented a key other than the one pinned (or the one the server binds to their
 * name): the key they showed, so that `peers`, `status` and `send` can report the conflict. An
 * entry ends when a link to that peer comes up (the right key is back) or the user trusts the
 * new key.
 */
export class KeyConflicts {
  private readonly presented = new Map<string, string>()

  /** The key `peerId` presented instead of the pinned one, when it did. */
  get(peerId: string): string | undefined {
    return this.presented.get(peerId)
  }

  record(peerId: string, presentedKey: string): void {
    this.presented.set(peerId, presentedKey)
  }

  clear(peerId: string): void {
    this.presented.delete(peerId)
  }

  get size(): number {
    return this.presented.size
  }
}
