/**
 * The request listener: rate limit, route, read the body, run the handler, answer. Every failure
 * ends as one `{"error":{code,message}}` reply for that request only; an unexpected exception is
 * logged and becomes 500 `internal`, and the server carries on serving everyone else.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { MAX_BODY_BYTES } from '../protocol/discovery.js'
import { ErrorCode, errorBody } from '../protocol/errors.js'
import { clientAddress } from './client-address.js'
import { errorReply, HttpError, normalizeAddress, parseJson, type Reply, readBody, send } from './http.js'
import { mailboxRoutes } from './mailbox/routes.js'
import type { AddressLimiter } from './rate-limit.js'
import { RegistryUnavailableError } from './registry.js'
import { createRouter } from './router.js'
import { type Deps, routes } from './routes.js'

export interface AppOptions {
  logger: Logger
  /** Omit to serve without a rate limit. */
  limiter?: AddressLimiter
  /** Proxies whose X-Forwarded-For is believed; empty or absent: none. */
  trustProxy?: ReadonlySet<string>
}

/** Pure: `/v1/peers?limit=2` -> path and query. The path is taken as sent, never resolved against a host. */
export function splitTarget(target: string): { path: string; query: URLSearchParams } {
  const q = target.indexOf('?')
  return q === -1
    ? { path: target, query: new URLSearchParams() }
    : { path: target.slice(0, q), query: new URLSearchParams(target.slice(q + 1)) }
}

export function createApp(deps: Deps, options: AppOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { logger, limiter } = options
  const trustProxy = options.trustProxy ?? new Set<string>()
  const route = createRouter([...routes, ...mailboxRoutes])

  async function handle(req: IncomingMessage, remoteAddress: string): Promise<Reply> {
    const now = deps.now()
    if (limiter && !(await limiter.allow(remoteAddress, now))) {
      throw new HttpError(429, ErrorCode.RateLimited, 'too many requests from this address; slow down', { 'retry-after': '1' })
    }
    const { path, query } = splitTarget(req.url ?? '/')
    const match = route(req.method ?? 'GET', path)
    if (match.kind === 'not_found') throw new HttpError(404, ErrorCode.NotFound, `no route for ${path}`)
    if (match.kind === 'wrong_method') {
      throw new HttpError(405, ErrorCode.MethodNotAllowed, `${req.method} is not allowed here`, { allow: match.allow.join(', ') })
    }
    const body = req.method === 'POST' ? parseJson(await readBody(req, match.maxBodyBytes ?? MAX_BODY_BYTES)) : undefined
    return match.handler({ params: match.params, query, body, remoteAddress, now, headers: req.headers }, deps)
  }

  return async (req, res) => {
    const started = performance.now()
    const remoteAddress = clientAddress(normalizeAddress(req.socket.remoteAddress) ?? 'unknown', req.headers['x-forwarded-for'], trustProxy)
    let reply: Reply
    try {
      reply = await handle(req, remoteAddress)
    } catch (err) {
      if (err instanceof HttpError) {
        reply = errorReply(err)
      } else if (err instanceof RegistryUnavailableError) {
        logger.warn({ err: err.message, method: req.method, url: req.url }, 'registry unavailable')
        reply = errorReply(
          new HttpError(503, ErrorCode.Unavailable, 'the registry is unavailable; try again shortly', { 'retry-after': '1' }),
        )
      } else {
        logger.error({ err, method: req.method, url: req.url, remoteAddress }, 'request failed')
        reply = { status: 500, body: errorBody(ErrorCode.Internal, 'internal server error') }
      }
    }
    if (res.headersSent || res.destroyed) return
    send(res, reply)
    logger.debug(
      { method: req.method, url: req.url, status: reply.status, remoteAddress, ms: Math.round((performance.now() - started) * 10) / 10 },
      'request',
    )
  }
}
