/**
 * What this daemon knows about other users, as `discover` and `peers` show it: presence from the
 * discovery server, pinned keys and key conflicts, the live link, blocks and mutes.
 */
import { fingerprint, fromHex } from '../protocol/identity.js'
import type { PeerInfo } from '../protocol/rpc.js'
import type { KeyConflicts } from './key-conflicts.js'
import type { OnlinePeers } from './online-peers.js'
import type { PeerStore } from './stores/peer-store.js'
import type { PeerPolicy } from './stores/policy-store.js'

export interface PeerDirectoryDeps {
  me: string
  online: OnlinePeers
  peers: PeerStore
  keyConflicts: KeyConflicts
  isConnected(peer: string): boolean
  linkOf?(peer: string): 'direct' | 'relayed' | undefined
  policyOf(peer: string): PeerPolicy
  /** Every user with a block or mute entry. */
  policyUserIds(): string[]
}

/** Pure: the `mutedUntil` field of a result, present only for a timed mute. */
export const mutedUntilField = (p: PeerPolicy) => (p.mutedUntil !== undefined ? { mutedUntil: new Date(p.mutedUntil).toISOString() } : {})

const linkField = (link: 'direct' | 'relayed' | undefined) => (link ? { link } : {})

export class PeerDirectory {
  constructor(private readonly deps: PeerDirectoryDeps) {}

  /** Online peers other than me, asked of the server now. */
  async discover(): Promise<PeerInfo[]> {
    await this.deps.online.refresh()
    return this.deps.online
      .ids()
      .sort()
      .map((id) => this.info(id))
  }

  /** Everyone this daemon knows: online, met before, or in a block or mute list. */
  async known(): Promise<PeerInfo[]> {
    const { online, peers, me } = this.deps
    await online.refresh().catch(() => {
      // Offline from the server: answer from what we know, with online as last seen.
    })
    const ids = new Set<string>([...online.ids(), ...peers.all().map((p) => p.userId), ...this.deps.policyUserIds()])
    ids.delete(me)
    return [...ids].sort().map((id) => this.info(id))
  }

  info(userId: string): PeerInfo {
    const { online, peers, keyConflicts } = this.deps
    const seen = online.get(userId)
    const known = peers.get(userId)
    const p = this.deps.policyOf(userId)
    // The pinned key is the one we trust; a different one is shown as a conflict, not adopted.
    const key = known?.publicKey ?? seen?.publicKey
    const presented = keyConflicts.get(userId)
    return {
      userId,
      online: seen !== undefined,
      ...(seen ? { host: seen.host, port: seen.port, lastSeen: seen.lastSeen } : {}),
      ...(key ? { fingerprint: fingerprint(fromHex(key)) } : {}),
      connected: this.deps.isConnected(userId),
      ...linkField(this.deps.linkOf?.(userId)),
      ...(presented ? { keyChanged: true, presentedFingerprint: fingerprint(fromHex(presented)) } : {}),
      blocked: p.blocked,
      muted: p.muted,
      ...mutedUntilField(p),
    }
  }
}
