/**
 * Who the discovery server says is online, as last asked. `discover` and `peers` ask now; `status`
 * answers from this list and refreshes it in the background when it is old, so it stays fast and
 * works while the server is down.
 */
import type { PeerRecord } from '../protocol/discovery.js'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import type { DiscoveryClient } from './discovery-client.js'

export class OnlinePeers {
  private readonly byId = new Map<string, PeerRecord>()
  private refreshedAt = 0
  private inFlight: Promise<void> | undefined

  constructor(
    private readonly discovery: DiscoveryClient,
    private readonly me: string,
  ) {}

  get(userId: string): PeerRecord | undefined {
    return this.byId.get(userId)
  }

  ids(): string[] {
    return [...this.byId.keys()]
  }

  get size(): number {
    return this.byId.size
  }

  /** Asks the server now (one request at a time, shared by concurrent callers). */
  refresh(): Promise<void> {
    this.inFlight ??= this.discovery
      .listAll()
      .then(
        (list) => {
          this.byId.clear()
          for (const record of list) if (record.userId !== this.me) this.byId.set(record.userId, record)
          this.refreshedAt = Date.now()
        },
        (error: Error) => {
          throw new P2PError(ErrorCode.ServerUnreachable, error.message)
        },
      )
      .finally(() => {
        this.inFlight = undefined
      })
    return this.inFlight
  }

  /** Starts a refresh in the background when the list is older than `maxAgeMs`. */
  refreshIfOlderThan(maxAgeMs: number): void {
    if (Date.now() - this.refreshedAt > maxAgeMs) this.refresh().catch(() => undefined)
  }
}
