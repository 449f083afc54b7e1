/**
 * The online list as served: each page (limit, cursor), and each peer looked up by id, kept
 * serialized with its ETag, rebuilt only when presence changes. What counts as a change:
 *   - a registration or unregistration through this instance (invalidate());
 *   - on a shared registry, a change through another instance: the registry's presence version,
 *     polled by the server a few times a second (observe());
 *   - a lease in the page running out: a page is good only until the first of its leases expires;
 *   - time: a page is rebuilt at least every `maxAgeMs`, so `lastSeen` (which every keep-alive
 *     moves, without changing who is online) is never staler than that.
 * A client that sends the ETag back in If-None-Match gets 304 and no body while the page stands.
 */
import { createHash } from 'node:crypto'

export interface CachedPage {
  json: string
  etag: string
  /** The page is served as is before this time (ms). */
  validUntil: number
}

/** Pure: until when a page built at `builtAt` over leases ending at `expiries` may be served. */
export function pageValidUntil(builtAt: number, maxAgeMs: number, expiries: readonly number[]): number {
  let until = builtAt + maxAgeMs
  for (const e of expiries) if (e < until) until = e
  return until
}

/** Pure: a strong ETag for a body. */
export function etagOf(json: string): string {
  return `"${createHash('sha1').update(json).digest('base64url').slice(0, 22)}"`
}

/** Pure: whether an If-None-Match header names `etag` (a list, `*`, or weak forms). */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false
  if (ifNoneMatch.trim() === '*') return true
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)
}

export class PeerPageCache {
  readonly #pages = new Map<string, CachedPage>()
  #version: string | undefined

  constructor(
    private readonly maxAgeMs = 1000,
    /** Entries kept at most (pages, and single peers looked up by id); cleared whole when full. */
    private readonly maxPages = 10_000,
  ) {}

  get(key: string, now: number): CachedPage | undefined {
    const page = this.#pages.get(key)
    return page && now < page.validUntil ? page : undefined
  }

  put(key: string, json: string, builtAt: number, expiries: readonly number[]): CachedPage {
    if (this.#pages.size >= this.maxPages) this.#pages.clear()
    const page = { json, etag: etagOf(json), validUntil: pageValidUntil(builtAt, this.maxAgeMs, expiries) }
    this.#pages.set(key, page)
    return page
  }

  /** Presence changed through this instance. */
  invalidate(): void {
    this.#pages.clear()
  }

  /** The shared registry's presence version, as last read: a new one drops every page. */
  observe(version: string): void {
    if (version !== this.#version) {
      this.#version = version
      this.#pages.clear()
    }
  }
}
