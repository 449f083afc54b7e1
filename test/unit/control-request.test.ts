import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { parseControlRequest } from '../../src/protocol/control-request.js'
import { type MethodName, MethodParams, RpcRequestSchema } from '../../src/protocol/rpc.js'
import { expectAgreement } from '../helpers/fast-check.js'

/** What the control server makes of a request with the schemas alone: its id, method and params. */
const BySchemas = RpcRequestSchema.transform((request, ctx) => {
  const params = Object.hasOwn(MethodParams, request.method)
    ? MethodParams[request.method as MethodName].safeParse(request.params)
    : undefined
  if (!params?.success) {
    ctx.addIssue({ code: 'custom', message: 'refused' })
    return z.NEVER
  }
  return { id: request.id, method: request.method, params: params.data }
})

const request = (method: string, params?: unknown, extra: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id: 3,
  method,
  ...(params === undefined ? {} : { params }),
  ...extra,
})

const inputs: unknown[] = [
  request('status'),
  request('status', {}),
  request('status', { verbose: true }),
  request('status', { verbose: false }),
  request('status', { verbose: true, extra: 1 }),
  request('status', { extra: 1 }),
  request('status', { verbose: 'yes' }),
  request('status', { verbose: null }),
  request('status', { verbose: 1 }),
  request('status', null),
  request('status', []),
  request('status', 'verbose'),
  request('status', undefined, { id: 'a' }),
  request('status', undefined, { id: null }),
  request('status', undefined, { id: undefined }),
  request('status', undefined, { id: 'x'.repeat(128) }),
  request('status', undefined, { id: 'x'.repeat(129) }),
  request('status', undefined, { id: 1.5 }),
  request('status', undefined, { id: true }),
  request('status', undefined, { id: {} }),
  request('status', undefined, { jsonrpc: '1.0' }),
  request('status', undefined, { other: 'dropped' }),
  { jsonrpc: '2.0', method: 'status' },
  request('Status'),
  request('peers'),
  request('peers', {}),
  request('peers', { any: 'thing' }),
  request('peers', null),
  request('peers', 5),
  request('discover'),
  request('discover', {}),
  request('discover', [1]),
  request('shutdown'),
  request('shutdown', {}),
  request('shutdown', false),
  request('send', { to: 'bob', text: 'hi' }),
  request('send', { to: 'bob', text: '' }),
  request('history'),
  request('history', {}),
  request('history', { peer: 'Bob', limit: 20, includeMuted: true }),
  request('history', { includeMuted: false, peer: 'bob', extra: 1 }),
  request('history', { limit: 1 }),
  request('history', { limit: 100_000 }),
  request('history', { limit: 100_001 }),
  request('history', { limit: 0 }),
  request('history', { limit: 2.5 }),
  request('history', { limit: '20' }),
  request('history', { peer: '-bob' }),
  request('history', { peer: 'a'.repeat(33) }),
  request('history', { peer: '\u212Aelvin' }),
  request('history', { peer: null }),
  request('history', { peer: undefined }),
  request('history', { includeMuted: 'yes' }),
  request('history', null),
  request('history', []),
  request('subscribe'),
  request('subscribe', {}),
  request('subscribe', { since: '5' }),
  request('subscribe', { since: '0', other: true }),
  request('subscribe', { since: '1'.repeat(18) }),
  request('subscribe', { since: '1'.repeat(19) }),
  request('subscribe', { since: 5 }),
  request('subscribe', { since: '-1' }),
  request('subscribe', { since: '' }),
  request('subscribe', 'now'),
  request('block', { peer: 'Bob' }),
  request('block', { peer: 'bob', extra: 1 }),
  request('block', { peer: '' }),
  request('block', {}),
  request('block'),
  request('unblock', { peer: 'carol' }),
  request('unblock', { peer: 7 }),
  request('unmute', { peer: 'dave' }),
  request('unmute', null),
  request('mute', { peer: 'bob', for: '2h' }),
  request('trust', { peer: 'bob' }),
  request('nope'),
  request('x'.repeat(65)),
  { jsonrpc: '2.0', id: 3 },
  { jsonrpc: '2.0', id: 3, method: 5 },
  null,
  [],
  'status',
  42,
]

describe('parseControlRequest, the fast check of the control requests the one-shot commands send', () => {
  it('accepts only what the schemas accept, with the same id, method and params', () => {
    const taken = expectAgreement(parseControlRequest, BySchemas, inputs)
    // The requests of the one-shot commands do take the fast path.
    expect(taken).toBeGreaterThanOrEqual(30)
    expect(parseControlRequest(request('status', { verbose: true, extra: 1 }))).toEqual({
      id: 3,
      method: 'status',
      params: { verbose: true },
    })
    expect(parseControlRequest(request('peers', { any: 'thing' }))).toEqual({ id: 3, method: 'peers', params: {} })
    expect(parseControlRequest(request('shutdown'))).toEqual({ id: 3, method: 'shutdown', params: undefined })
    expect(parseControlRequest(request('history', { peer: 'Bob', limit: 20 }))).toEqual({
      id: 3,
      method: 'history',
      params: { peer: 'bob', limit: 20 },
    })
    expect(parseControlRequest(request('block', { peer: 'Bob' }))).toEqual({ id: 3, method: 'block', params: { peer: 'bob' } })
  })

  it('leaves every other method to the schemas', () => {
    for (const method of ['mute', 'trust', 'nope', 'toString', '__proto__'])
      expect(parseControlRequest(request(method, { peer: 'bob' })), method).toBeUndefined()
  })
})
