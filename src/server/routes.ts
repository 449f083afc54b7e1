/**
 * The handlers of SPEC section 3. Each one validates its input with the shared protocol schemas,
 * makes its decisions, and leaves every bit of state to the registry; what it returns is written
 * by the app. The order of checks in signed requests is: shape, clock, signature, replay, action.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { z } from 'zod'
import {
  isFreshTimestamp,
  KeepaliveRequestSchema,
  type LeaseBody,
  PeerListQuerySchema,
  type PeerRecord,
  RegisterRequestSchema,
  TIMESTAMP_WINDOW_MS,
  UnregisterRequestSchema,
  UserIdSchema,
  verifySigned,
} from '../protocol/discovery.js'
import { ErrorCode } from '../protocol/errors.js'
import { deriveLeaseKey, sealLeaseKey, verifyLeaseMac } from '../protocol/lease-proof.js'
import type { BindingCache } from './binding-cache.js'
import { HttpError, type Reply } from './http.js'
import type { MailboxDeps } from './mailbox/routes.js'
import { matchesEtag, type PeerPageCache } from './peer-page-cache.js'
import type { Peer, Registry } from './registry.js'
import type { Route } from './router.js'

export interface Deps {
  registry: Registry
  ttlMs: number
  reservationMs: number
  now: () => number
  /** Serialized pages of the online list; without it every list request reads the registry. */
  peerPages?: PeerPageCache
  /** The namespace's secret for lease proofs (lease-proof.ts); without it keep-alives must be signed. */
  leaseSecret?: Buffer
  /** Absent with `p2p server --no-mailbox`: the mailbox routes answer `mailbox_disabled`. */
  mailbox?: MailboxDeps
  /** Bound keys as last seen here; without it every keep-alive reads the binding first. */
  bindings?: BindingCache
}

export interface RequestContext {
  params: Record<string, string>
  query: URLSearchParams
  /** The parsed JSON body of a POST; undefined for GET. */
  body: unknown
  /** The client's address, already normalized. */
  remoteAddress: string
  now: number
  headers?: IncomingHttpHeaders
}

export type Handler = (ctx: RequestContext, deps: Deps) => Promise<Reply>

/** Pure: a zod failure as one 400, naming the first offending field. */
export function validationError(error: z.ZodError): HttpError {
  const issue = error.issues[0]
  const field = issue?.path.join('.') ?? ''
  const message = `${field || 'body'}: ${issue?.message ?? 'invalid'}`
  // A present, well-typed but ill-formed user id has its own code; anything else is plain bad input.
  const code = field === 'userId' && issue?.code === 'custom' ? ErrorCode.InvalidUserId : ErrorCode.BadRequest
  return new HttpError(400, code, message)
}

export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input)
  if (!result.success) throw validationError(result.error)
  return result.data
}

export function toPeerRecord(peer: Peer): PeerRecord {
  return {
    userId: peer.userId,
    publicKey: peer.publicKey,
    host: peer.host,
    port: peer.port,
    lastSeen: new Date(peer.lastSeen).toISOString(),
  }
}

export function requireFresh(ts: number, now: number): void {
  if (!isFreshTimestamp(ts, now)) {
    throw new HttpError(401, ErrorCode.StaleTimestamp, `ts is more than ${TIMESTAMP_WINDOW_MS / 1000} s away from the server's clock`)
  }
}

/** A signature is remembered until its timestamp would be stale anyway. */
export async function requireFirstUse(deps: Deps, userId: string, sig: string, ts: number): Promise<void> {
  if (!(await deps.registry.claimNonce(userId, sig, ts + TIMESTAMP_WINDOW_MS))) throw replayed()
}

const replayed = () => new HttpError(401, ErrorCode.Replayed, 'this request was already seen')
const noLease = (userId: string) => new HttpError(404, ErrorCode.NotFound, `no lease for ${userId}; register again`)
export const badSignature = () => new HttpError(401, ErrorCode.BadSignature, 'signature does not verify')

const register: Handler = async (ctx, deps) => {
  const req = parse(RegisterRequestSchema, ctx.body)
  requireFresh(req.ts, ctx.now)
  if (!verifySigned('register', req, req.publicKey)) throw badSignature()
  await requireFirstUse(deps, req.userId, req.sig, req.ts)
  const result = await deps.registry.register({
    userId: req.userId,
    publicKey: req.publicKey,
    host: req.host ?? ctx.remoteAddress,
    port: req.port,
    ...(req.instance ? { instance: req.instance } : {}),
    now: ctx.now,
    expiresAt: ctx.now + deps.ttlMs,
    reservedUntil: ctx.now + deps.reservationMs,
  })
  if (result === 'taken') throw new HttpError(409, ErrorCode.UserIdTaken, `${req.userId} is bound to another key`)
  if (result === 'elsewhere') {
    throw new HttpError(
      409,
      ErrorCode.OnlineElsewhere,
      `${req.userId} is online elsewhere: another daemon with this key holds the lease (stop it, or this one takes over once that lease ends)`,
    )
  }
  deps.peerPages?.invalidate()
  deps.bindings?.remember(result.userId, req.publicKey)
  const leaseKey = deps.leaseSecret
    ? { leaseKey: sealLeaseKey(deriveLeaseKey(deps.leaseSecret, result.userId, req.publicKey, req.instance), req.publicKey) }
    : {}
  return {
    status: 200,
    body: {
      userId: result.userId,
      host: result.host,
      port: result.port,
      expiresAt: new Date(result.expiresAt).toISOString(),
      ...leaseKey,
    },
  }
}

/**
 * Keep-alive and unregister prove ownership with the key the user id is *bound* to: a signature,
 * or for a keep-alive the lease proof (a MAC under the lease key derived from that binding).
 */
async function authorizeUnregister(ctx: RequestContext, deps: Deps): Promise<LeaseBody> {
  const req = parse(UnregisterRequestSchema, ctx.body)
  requireFresh(req.ts, ctx.now)
  const binding = await deps.registry.binding(req.userId, ctx.now)
  if (!binding) throw noLease(req.userId)
  await requireFirstUse(deps, req.userId, checkProof('unregister', req, binding.publicKey, deps), req.ts)
  return req
}

/** The request's proof (signature or lease MAC), checked against the bound key; returned as its replay nonce. */
function checkProof(
  action: 'keepalive' | 'unregister',
  req: LeaseBody & { sig?: string; mac?: string },
  publicKey: string,
  deps: Deps,
): string {
  if (req.sig !== undefined) {
    if (!verifySigned(action, { ...req, sig: req.sig }, publicKey)) throw badSignature()
    return req.sig
  }
  const mac = req.mac ?? ''
  const secret = deps.leaseSecret
  const leaseKey =
    secret &&
    (deps.bindings?.leaseKey(secret, req.userId, publicKey, req.instance) ?? deriveLeaseKey(secret, req.userId, publicKey, req.instance))
  if (!leaseKey || !verifyLeaseMac(leaseKey, req, mac)) {
    throw new HttpError(401, ErrorCode.BadSignature, 'lease proof does not verify; register again for a new lease key')
  }
  return mac
}

/**
 * The hot path: the proof is checked against the bound key as cached here, then the registry
 * confirms that binding, claims the nonce and renews, in one step (one round trip on Redis). A
 * cached key the registry no longer holds, or one the proof fails under, is read again once.
 */
const keepalive: Handler = async (ctx, deps) => {
  const req = parse(KeepaliveRequestSchema, ctx.body)
  requireFresh(req.ts, ctx.now)
  let publicKey = deps.bindings?.publicKey(req.userId)
  let fromCache = publicKey !== undefined
  for (;;) {
    publicKey ??= await boundKey(req.userId, ctx.now, deps)
    let nonce: string
    try {
      nonce = checkProof('keepalive', req, publicKey, deps)
    } catch (err) {
      if (!fromCache) throw err
      fromCache = false
      const fresh = await boundKey(req.userId, ctx.now, deps)
      if (fresh === publicKey) throw err
      publicKey = fresh
      continue
    }
    const outcome = await deps.registry.keepalive({
      userId: req.userId,
      publicKey,
      nonce,
      nonceExpiresAt: req.ts + TIMESTAMP_WINDOW_MS,
      ...(req.instance ? { instance: req.instance } : {}),
      now: ctx.now,
      expiresAt: ctx.now + deps.ttlMs,
      reservedUntil: ctx.now + deps.reservationMs,
    })
    if (outcome === 'mismatch' && fromCache) {
      deps.bindings?.forget(req.userId)
      fromCache = false
      publicKey = undefined
      continue
    }
    if (outcome === 'replayed') throw replayed()
    if (outcome === 'mismatch' || outcome === 'gone') throw noLease(req.userId)
    return { status: 200, body: { expiresAt: new Date(outcome.expiresAt).toISOString() } }
  }
}

/** The key `userId` is bound to now, read from the registry (and remembered), or a 404. */
async function boundKey(userId: string, now: number, deps: Deps): Promise<string> {
  const binding = await deps.registry.binding(userId, now)
  if (!binding) {
    deps.bindings?.forget(userId)
    throw noLease(userId)
  }
  deps.bindings?.remember(userId, binding.publicKey)
  return binding.publicKey
}

// Idempotent: unregistering while already offline is still 204.
const unregister: Handler = async (ctx, deps) => {
  const req = await authorizeUnregister(ctx, deps)
  if (await deps.registry.unregister(req.userId, req.instance)) deps.peerPages?.invalidate()
  return { status: 204 }
}

const listPeers: Handler = async (ctx, deps) => {
  const key = ctx.query.toString()
  let page = deps.peerPages?.get(key, ctx.now)
  if (!page) {
    const query = parse(PeerListQuerySchema, Object.fromEntries(ctx.query))
    // One extra row tells whether another page exists without a count query.
    const rows = await deps.registry.onlinePeers(ctx.now, query.limit + 1, query.cursor)
    const peers = rows.slice(0, query.limit)
    const next = rows.length > query.limit ? peers.at(-1)?.userId : undefined
    const json = JSON.stringify({ peers: peers.map(toPeerRecord), ...(next ? { next } : {}) })
    if (!deps.peerPages) return { status: 200, json }
    page = deps.peerPages.put(
      key,
      json,
      ctx.now,
      rows.map((p) => p.expiresAt),
    )
  }
  const headers = { etag: page.etag, 'cache-control': 'no-cache' }
  if (matchesEtag(ctx.headers?.['if-none-match'], page.etag)) return { status: 304, headers }
  return { status: 200, json: page.json, headers }
}

/** The `:userId` of a path, decoded and checked. */
function userIdParam(ctx: RequestContext): string {
  let raw: string
  try {
    raw = decodeURIComponent(ctx.params.userId ?? '')
  } catch {
    throw new HttpError(400, ErrorCode.BadRequest, 'user id is not valid URL encoding')
  }
  const parsed = UserIdSchema.safeParse(raw)
  if (!parsed.success) throw new HttpError(400, ErrorCode.InvalidUserId, parsed.error.issues[0]?.message ?? 'invalid user id')
  return parsed.data
}

const getPeer: Handler = async (ctx, deps) => {
  const userId = userIdParam(ctx)
  // The same cache as the list pages, under its own key: an online peer's record stands until
  // presence changes, its lease ends, or a second passes (lastSeen). Absent peers are not cached.
  const key = `peer/${userId}`
  const cached = deps.peerPages?.get(key, ctx.now)
  if (cached) return { status: 200, json: cached.json }
  const peer = await deps.registry.peer(userId, ctx.now)
  if (!peer) throw new HttpError(404, ErrorCode.NotFound, `${userId} is not online`)
  const json = JSON.stringify(toPeerRecord(peer))
  deps.peerPages?.put(key, json, ctx.now, [peer.expiresAt])
  return { status: 200, json }
}

// A load balancer takes an instance out of rotation on 503, so it reports its store, not only itself.
const health: Handler = async (_ctx, deps) =>
  !deps.registry.healthy || (await deps.registry.healthy())
    ? { status: 200, body: { ok: true } }
    : { status: 503, body: { ok: false, error: { code: ErrorCode.Unavailable, message: 'the registry is unreachable' } } }
/** The key a user id is bound to, online or not: what a sender needs to seal to a user it never met. */
const getKey: Handler = async (ctx, deps) => {
  const userId = userIdParam(ctx)
  const binding = await deps.registry.binding(userId, ctx.now)
  if (!binding) throw new HttpError(404, ErrorCode.NotFound, `${userId} is not bound to any key`)
  return { status: 200, body: { userId: binding.userId, publicKey: binding.publicKey } }
}

export const routes: Route<Handler>[] = [
  { method: 'POST', path: '/v1/register', handler: register },
  { method: 'POST', path: '/v1/keepalive', handler: keepalive },
  { method: 'POST', path: '/v1/unregister', handler: unregister },
  { method: 'GET', path: '/v1/peers', handler: listPeers },
  { method: 'GET', path: '/v1/peers/:userId', handler: getPeer },
  { method: 'GET', path: '/v1/keys/:userId', handler: getKey },
  { method: 'GET', path: '/healthz', handler: health },
]
