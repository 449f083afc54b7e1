/**
 * HTTP client of the discovery server. Every response is validated: by a hand-written check that
 * accepts only what the shared schemas accept, else by the schemas;
 * every failure becomes a DiscoveryError with the HTTP status (0 when the server is unreachable).
 * Every call takes an optional AbortSignal: a caller that gives up (an actor stopped mid-request)
 * aborts the request, and the call rejects with the signal's reason, not a DiscoveryError, because
 * nothing is wrong with the server.
 *
 * Failover: `--server` may list several instances of one namespace (comma-separated). A request
 * that finds its instance unreachable or failing (5xx: an instance whose Redis is down, a load
 * balancer with no backend) is made again, freshly signed, at the next one; the client stays on
 * whichever answered, so one dead instance costs one refused connection, not one per request.
 */
import type { z } from 'zod'
import type { PeerRecord } from '../protocol/discovery.js'
import {
  fastDeleteResponse,
  fastDepositResponse,
  fastFetchResponse,
  fastKeepaliveResponse,
  fastKeyRecord,
  fastPeerList,
  fastPeerRecord,
  fastRegisterResponse,
} from '../protocol/discovery-answers.js'
import { signLeaseRequest, signRegister } from '../protocol/discovery-signing.js'
import type { Identity } from '../protocol/identity.js'
import { leaseMac, openLeaseKey } from '../protocol/lease-proof.js'
import { discoverySchemas, mailboxSchemas } from '../protocol/load-schemas.js'
import type { FetchResponse } from '../protocol/mailbox.js'
import { signDelete, signFetch } from '../protocol/mailbox-signing.js'
import { serverUrls } from '../protocol/server-url.js'
import { type HttpAnswer, httpRequest } from './http-request.js'

const REQUEST_TIMEOUT_MS = 5000

/** Reads a response body: the data, or undefined when it is not what the route answers. */
type BodyReader<T> = (json: unknown) => T | undefined

/**
 * The hand-written check first (discovery-answers.ts); the schema, and zod with it, only for a
 * body that check is not sure of: an idle daemon's register and keep-alive answers load no zod.
 */
function bodyReader<T>(fast: BodyReader<T>, schema: () => z.ZodType<T>): BodyReader<T> {
  return (json) => {
    const quick = fast(json)
    if (quick !== undefined) return quick
    const parsed = schema().safeParse(json)
    return parsed.success ? parsed.data : undefined
  }
}

const RegisterBody = bodyReader(fastRegisterResponse, () => discoverySchemas().RegisterResponseSchema)
const KeepaliveBody = bodyReader(fastKeepaliveResponse, () => discoverySchemas().KeepaliveResponseSchema)
const PeerRecordBody = bodyReader(fastPeerRecord, () => discoverySchemas().PeerRecordSchema)
let keyRecordSchema: z.ZodType<Pick<PeerRecord, 'userId' | 'publicKey'>> | undefined
const KeyRecordBody = bodyReader(fastKeyRecord, () => {
  keyRecordSchema ??= discoverySchemas().PeerRecordSchema.pick({ userId: true, publicKey: true })
  return keyRecordSchema
})
const PeerListBody = bodyReader(fastPeerList, () => discoverySchemas().PeerListSchema)
const DepositBody = bodyReader(fastDepositResponse, () => mailboxSchemas().DepositResponseSchema)
const FetchBody = bodyReader(fastFetchResponse, () => mailboxSchemas().FetchResponseSchema)
const DeleteBody = bodyReader(fastDeleteResponse, () => mailboxSchemas().DeleteResponseSchema)

export class DiscoveryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'DiscoveryError'
  }
}

/** Pure: whether a failed request should be made again at the next instance. */
export function worthFailover(error: unknown): boolean {
  return error instanceof DiscoveryError && (error.status === 0 || error.status >= 500)
}

export class DiscoveryClient {
  readonly #urls: string[]
  #current = 0
  /** From the last registration, opened with our key (lease-proof.ts). */
  #leaseKey: Buffer | undefined

  constructor(
    /** One URL, or several comma-separated instances of one namespace. */
    serverUrl: string,
    private readonly identity: Identity,
    private readonly userId: string,
    /** This daemon's instance (see instanceId): the server keeps one lease per user to one instance. */
    private readonly instance?: string,
    /** Told when requests move to another instance. */
    private readonly onFailover?: (from: string, to: string, error: DiscoveryError) => void,
  ) {
    this.#urls = serverUrls(serverUrl)
  }

  /** The instance requests go to now. */
  get baseUrl(): string {
    return this.#urls[this.#current]!
  }

  async register(port: number, host?: string, signal?: AbortSignal) {
    const body = () =>
      signRegister(this.identity, { userId: this.userId, port, ts: Date.now(), ...(host ? { host } : {}), ...this.instanceField() })
    const lease = await this.request('POST', '/v1/register', RegisterBody, body, signal)
    this.#leaseKey = lease.leaseKey ? openLeaseKey(lease.leaseKey, this.identity) : undefined
    return lease
  }

  /**
   * With a lease key from the last registration, the keep-alive carries the lease proof (a MAC)
   * instead of a signature. A server that refuses it (its secret changed, or an instance that
   * does not share it) gets a signed keep-alive at once, and the key is dropped until the next
   * registration brings a new one.
   */
  async keepalive(signal?: AbortSignal) {
    const leaseKey = this.#leaseKey
    if (leaseKey) {
      const body = () => {
        const fields = { userId: this.userId, ts: Date.now(), ...this.instanceField() }
        return { ...fields, mac: leaseMac(leaseKey, fields) }
      }
      try {
        return await this.request('POST', '/v1/keepalive', KeepaliveBody, body, signal)
      } catch (error) {
        if (!(error instanceof DiscoveryError && error.status === 401 && error.code === 'bad_signature')) throw error
        this.#leaseKey = undefined
      }
    }
    const body = () => signLeaseRequest(this.identity, 'keepalive', { userId: this.userId, ts: Date.now(), ...this.instanceField() })
    return this.request('POST', '/v1/keepalive', KeepaliveBody, body, signal)
  }

  async unregister(signal?: AbortSignal): Promise<void> {
    const body = () => signLeaseRequest(this.identity, 'unregister', { userId: this.userId, ts: Date.now(), ...this.instanceField() })
    await this.request('POST', '/v1/unregister', null, body, signal)
  }

  private instanceField() {
    return this.instance ? { instance: this.instance } : {}
  }

  /** The online peer with this id, or undefined when the server does not know it online. */
  async lookup(userId: string, signal?: AbortSignal): Promise<PeerRecord | undefined> {
    try {
      return await this.request('GET', `/v1/peers/${encodeURIComponent(userId)}`, PeerRecordBody, undefined, signal)
    } catch (error) {
      if (error instanceof DiscoveryError && error.status === 404) return undefined
      throw error
    }
  }

  /** The key the server binds to `userId`, online or not; undefined when the id is bound to none. */
  async keyOf(userId: string, signal?: AbortSignal): Promise<string | undefined> {
    try {
      return (await this.request('GET', `/v1/keys/${encodeURIComponent(userId)}`, KeyRecordBody, undefined, signal)).publicKey
    } catch (error) {
      if (error instanceof DiscoveryError && error.status === 404 && error.code === 'not_found') return undefined
      throw error
    }
  }

  /** Leaves a sealed item in `to`'s mailbox. */
  deposit(to: string, box: Buffer, signal?: AbortSignal) {
    const sealed = box.toString('base64')
    return this.request('POST', '/v1/mailbox/deposit', DepositBody, () => ({ to, box: sealed }), signal)
  }

  /** The items waiting in my mailbox after `after`, oldest first. */
  fetchMailbox(after?: string, limit?: number, signal?: AbortSignal): Promise<FetchResponse> {
    // Signed again for each server tried (a fresh timestamp each time).
    const body = () =>
      signFetch(this.identity, {
        userId: this.userId,
        ts: Date.now(),
        ...(after !== undefined ? { after } : {}),
        ...(limit !== undefined ? { limit } : {}),
      })
    return this.request('POST', '/v1/mailbox/fetch', FetchBody, body, signal)
  }

  async deleteFromMailbox(ids: string[], signal?: AbortSignal): Promise<number> {
    const body = () => signDelete(this.identity, { userId: this.userId, ids, ts: Date.now() })
    return (await this.request('POST', '/v1/mailbox/delete', DeleteBody, body, signal)).deleted
  }

  /** Every online peer, following the server's pages. */
  async listAll(pageSize = 500, signal?: AbortSignal): Promise<PeerRecord[]> {
    const peers: PeerRecord[] = []
    let cursor: string | undefined
    do {
      const query = `limit=${pageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
      const page = await this.request('GET', `/v1/peers?${query}`, PeerListBody, undefined, signal)
      peers.push(...page.peers)
      cursor = page.next
    } while (cursor)
    return peers
  }

  /** Tries each instance at most once, starting with the current one; `body` is made (signed) per attempt. */
  private async request<T>(
    method: string,
    path: string,
    reader: BodyReader<T> | null,
    body?: () => unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.requestOnce(this.baseUrl, method, path, reader, body?.(), signal)
      } catch (error) {
        if (attempt >= this.#urls.length || !worthFailover(error)) throw error
        const from = this.baseUrl
        this.#current = (this.#current + 1) % this.#urls.length
        this.onFailover?.(from, this.baseUrl, error as DiscoveryError)
      }
    }
  }

  private async requestOnce<T>(
    baseUrl: string,
    method: string,
    path: string,
    reader: BodyReader<T> | null,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS)
    let response: HttpAnswer
    try {
      // The signal covers the body's download too: a body that stops coming is no answer.
      response = await httpRequest(new URL(path, baseUrl), {
        method,
        ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      })
    } catch (error) {
      // Our caller gave up: not a server failure, so no DiscoveryError for status or logs to show.
      if (signal?.aborted) throw signal.reason
      throw new DiscoveryError(0, 'server_unreachable', `discovery server ${baseUrl} unreachable: ${(error as Error).message}`)
    }
    const text = response.text
    let json: unknown
    try {
      json = text ? JSON.parse(text) : undefined
    } catch {
      throw new DiscoveryError(response.status, 'bad_response', `discovery server answered ${response.status} with non-JSON`)
    }
    if (response.status < 200 || response.status > 299) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error
      throw new DiscoveryError(response.status, error?.code ?? 'http_error', error?.message ?? `HTTP ${response.status}`)
    }
    if (!reader) return undefined as T
    const parsed = reader(json)
    if (parsed === undefined) throw new DiscoveryError(response.status, 'bad_response', `discovery server sent an unexpected ${path} body`)
    return parsed
  }
}
