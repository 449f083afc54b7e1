import { describe, expect, it } from 'vitest'
import { MethodParams, RpcRequestSchema } from '../../src/protocol/rpc.js'
import { parseSendRequest } from '../../src/protocol/send-request.js'

/** What the schemas make of `raw`: the request's id and params, or undefined when they refuse it. */
function bySchemas(raw: unknown) {
  const request = RpcRequestSchema.safeParse(raw)
  if (!request.success || request.data.method !== 'send') return undefined
  const params = MethodParams.send.safeParse(request.data.params)
  return params.success ? { id: request.data.id, method: 'send', params: params.data } : undefined
}

const send = (params: unknown, extra: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id: 7, method: 'send', params, ...extra })

const inputs: unknown[] = [
  send({ to: 'bob', text: 'hi' }),
  send({ to: 'Bob.Smith_2-x', text: 'hi', timeout: 30 }),
  send({ to: 'bob', text: 'hi', timeout: 0 }),
  send({ to: 'bob', text: 'hi', timeout: 3600 }),
  send({ to: 'bob', text: 'hi', timeout: 3600.5 }),
  send({ to: 'bob', text: 'hi', timeout: -1 }),
  send({ to: 'bob', text: 'hi', timeout: 1.5 }),
  send({ to: 'bob', text: 'hi', timeout: '30' }),
  send({ to: 'bob', text: 'hi', timeout: null }),
  send({ to: 'bob', text: 'hi', extra: true }),
  send({ to: 'bob', text: '' }),
  send({ to: 'bob', text: 5 }),
  send({ to: 'bob', text: 'é'.repeat(32 * 1024) }),
  send({ to: 'bob', text: 'é'.repeat(32 * 1024 + 1) }),
  send({ to: 'bob', text: 'x'.repeat(64 * 1024) }),
  send({ to: 'bob', text: 'x'.repeat(64 * 1024 + 1) }),
  send({ to: 'bob', text: '€'.repeat(21845) }),
  send({ to: 'bob', text: '€'.repeat(21846) }),
  send({ to: 'bob', text: '😀'.repeat(16 * 1024) }),
  send({ to: 'bob', text: '😀'.repeat(16 * 1024 + 1) }),
  send({ to: '', text: 'hi' }),
  send({ to: '-bob', text: 'hi' }),
  send({ to: 'a'.repeat(32), text: 'hi' }),
  send({ to: 'a'.repeat(33), text: 'hi' }),
  send({ to: '\u212Aelvin', text: 'hi' }),
  send({ to: 42, text: 'hi' }),
  send({ text: 'hi' }),
  send(null),
  send([]),
  send('bob hi'),
  send(undefined),
  send({ to: 'bob', text: 'hi' }, { id: 'abc' }),
  send({ to: 'bob', text: 'hi' }, { id: 'x'.repeat(128) }),
  send({ to: 'bob', text: 'hi' }, { id: 'x'.repeat(129) }),
  send({ to: 'bob', text: 'hi' }, { id: null }),
  send({ to: 'bob', text: 'hi' }, { id: undefined }),
  send({ to: 'bob', text: 'hi' }, { id: 1.25 }),
  send({ to: 'bob', text: 'hi' }, { id: true }),
  send({ to: 'bob', text: 'hi' }, { id: {} }),
  send({ to: 'bob', text: 'hi' }, { jsonrpc: '2' }),
  send({ to: 'bob', text: 'hi' }, { jsonrpc: 2 }),
  send({ to: 'bob', text: 'hi' }, { method: 'Send' }),
  send({ to: 'bob', text: 'hi' }, { other: 1 }),
  null,
  [],
  'send',
  { jsonrpc: '2.0', method: 'status' },
]

describe('parseSendRequest, the fast check of send requests', () => {
  it('accepts only what the schemas accept, with the same id and params', () => {
    let accepted = 0
    for (const raw of inputs) {
      const fast = parseSendRequest(raw)
      const schema = bySchemas(raw)
      if (fast) {
        accepted++
        expect(fast, JSON.stringify(raw).slice(0, 120)).toEqual(schema)
      } else {
        // Left to zod: fine either way; zod then decides and words the error.
      }
      if (!schema) expect(fast, JSON.stringify(raw).slice(0, 120)).toBeUndefined()
    }
    // The common requests do take the fast path.
    expect(accepted).toBeGreaterThanOrEqual(10)
    expect(parseSendRequest(send({ to: 'Bob', text: 'hi', timeout: 30 }))).toEqual({
      id: 7,
      method: 'send',
      params: { to: 'bob', text: 'hi', timeout: 30 },
    })
  })
})
