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

  /**
   * Refreshes the list when it is older than `maxAgeMs`, waiting at most `waitMs` for the server:
   * past that (a slow or dead server) the caller answers from the list as it is, and the refresh
   * goes on in the background.
   */
  async freshen(maxAgeMs: number, waitMs: number): Promise<void> {
    if (Date.now() - this.refreshedAt <= maxAgeMs) return
    let timer: NodeJS.Timeout | undefined
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs)
    })
    await Promise.race([this.refresh().catch(() => undefined), waited])
    clearTimeout(timer)
  }

  /** Someone just left or arrived (a link went down or up): the next look asks the server again. */
  markStale(): void {
    this.refreshedAt = 0
  }
}
