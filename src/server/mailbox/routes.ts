/**
 * The mailbox handlers of SPEC section 10. A deposit names only its recipient, which must be a
 * bound user id (no storage for names nobody owns); the source address pays a token per deposit,
 * and the recipient's quota caps what anyone can pile up there. Fetch and delete are signed by the
 * key the recipient's id is bound to, checked in the order of the other signed requests: shape,
 * clock, signature, replay, action.
 */
import { ErrorCode } from '../../protocol/errors.js'
import { fromHex, verify } from '../../protocol/identity.js'
import {
  DeleteRequestSchema,
  DepositRequestSchema,
  deleteBytes,
  FetchRequestSchema,
  fetchBytes,
  MAX_DEPOSIT_BODY_BYTES,
  MAX_FETCH_BYTES,
  MAX_FETCH_ITEMS,
} from '../../protocol/mailbox.js'
import { HttpError } from '../http.js'
import type { RateLimiter } from '../rate-limit.js'
import type { Route } from '../router.js'
import { badSignature, type Deps, type Handler, parse, type RequestContext, requireFirstUse, requireFresh } from '../routes.js'
import type { MailboxQuota, MailboxStore } from './store.js'

export interface MailboxDeps {
  store: MailboxStore
  quota: MailboxQuota
  lifetimeMs: number
  /** Deposits per source address; absent: no limit beyond the server's own. */
  depositLimiter?: RateLimiter
}

/** Pure: fetched items up to the byte budget of one answer, always at least one. */
export function withinBudget<T extends { box: Buffer }>(items: T[], maxBytes: number): T[] {
  let bytes = 0
  const kept: T[] = []
  for (const item of items) {
    bytes += item.box.length
    if (kept.length > 0 && bytes > maxBytes) break
    kept.push(item)
  }
  return kept
}

function mailboxOf(deps: Deps): MailboxDeps {
  if (!deps.mailbox) throw new HttpError(404, ErrorCode.MailboxDisabled, 'this server keeps no mailboxes (p2p server --no-mailbox)')
  return deps.mailbox
}

/** Proves the request comes from the recipient: signed by the key its id is bound to, fresh, used once. */
async function authorize(ctx: RequestContext, deps: Deps, req: { userId: string; ts: number; sig: string }, bytes: Buffer): Promise<void> {
  requireFresh(req.ts, ctx.now)
  const binding = await deps.registry.binding(req.userId, ctx.now)
  if (!binding) throw new HttpError(404, ErrorCode.NotFound, `${req.userId} is not bound to any key`)
  if (!verify(fromHex(binding.publicKey), bytes, fromHex(req.sig))) throw badSignature()
  await requireFirstUse(deps, req.userId, req.sig, req.ts)
}

const deposit: Handler = async (ctx, deps) => {
  const mailbox = mailboxOf(deps)
  if (mailbox.depositLimiter && !mailbox.depositLimiter.allow(ctx.remoteAddress, ctx.now)) {
    throw new HttpError(429, ErrorCode.RateLimited, 'too many mailbox deposits from this address; slow down', { 'retry-after': '1' })
  }
  const req = parse(DepositRequestSchema, ctx.body)
  const box = Buffer.from(req.box, 'base64')
  if (box.length === 0) throw new HttpError(400, ErrorCode.BadRequest, 'box: empty')
  if (!(await deps.registry.binding(req.to, ctx.now))) throw new HttpError(404, ErrorCode.NotFound, `${req.to} is not bound to any key`)
  const item = await mailbox.store.deposit(req.to, box, ctx.now, ctx.now + mailbox.lifetimeMs, mailbox.quota)
  if (item === 'full') {
    const { maxItems, maxBytes } = mailbox.quota
    throw new HttpError(507, ErrorCode.MailboxFull, `${req.to}'s mailbox is full (${maxItems} items or ${maxBytes} bytes); try again later`)
  }
  return { status: 201, body: { id: item.id, expiresAt: new Date(item.expiresAt).toISOString() } }
}

const fetchItems: Handler = async (ctx, deps) => {
  const mailbox = mailboxOf(deps)
  const req = parse(FetchRequestSchema, ctx.body)
  await authorize(ctx, deps, req, fetchBytes(req))
  const limit = req.limit ?? MAX_FETCH_ITEMS
  // One more than asked tells whether more wait, without a count.
  const rows = await mailbox.store.list(req.userId, ctx.now, limit + 1, req.after)
  const items = withinBudget(rows.slice(0, limit), MAX_FETCH_BYTES)
  const next = rows.length > items.length ? items.at(-1)?.id : undefined
  return {
    status: 200,
    body: {
      items: items.map((i) => ({ id: i.id, box: i.box.toString('base64'), depositedAt: new Date(i.depositedAt).toISOString() })),
      ...(next ? { next } : {}),
    },
  }
}

const deleteItems: Handler = async (ctx, deps) => {
  const mailbox = mailboxOf(deps)
  const req = parse(DeleteRequestSchema, ctx.body)
  await authorize(ctx, deps, req, deleteBytes(req))
  return { status: 200, body: { deleted: await mailbox.store.delete(req.userId, req.ids) } }
}

export const mailboxRoutes: Route<Handler>[] = [
  { method: 'POST', path: '/v1/mailbox/deposit', handler: deposit, maxBodyBytes: MAX_DEPOSIT_BODY_BYTES },
  { method: 'POST', path: '/v1/mailbox/fetch', handler: fetchItems },
  { method: 'POST', path: '/v1/mailbox/delete', handler: deleteItems },
]
