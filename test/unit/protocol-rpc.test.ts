import { describe, expect, it } from 'vitest'
import { MAX_TEXT_BYTES } from '../../src/protocol/limits.js'
import { MethodParams, RpcRequestSchema } from '../../src/protocol/rpc.js'

describe('RpcRequestSchema', () => {
  it('accepts JSON-RPC 2.0 requests and notifications', () => {
    expect(RpcRequestSchema.safeParse({ jsonrpc: '2.0', id: 1, method: 'status' }).success).toBe(true)
    expect(RpcRequestSchema.safeParse({ jsonrpc: '2.0', id: 'a', method: 'send', params: { to: 'bob' } }).success).toBe(true)
    expect(RpcRequestSchema.safeParse({ jsonrpc: '2.0', method: 'status' }).success).toBe(true)
  })

  it('refuses other versions and bad ids', () => {
    expect(RpcRequestSchema.safeParse({ jsonrpc: '1.0', id: 1, method: 'status' }).success).toBe(false)
    expect(RpcRequestSchema.safeParse({ jsonrpc: '2.0', id: {}, method: 'status' }).success).toBe(false)
    expect(RpcRequestSchema.safeParse({ jsonrpc: '2.0', id: 1 }).success).toBe(false)
  })
})

describe('MethodParams', () => {
  it('lets parameterless methods go without params', () => {
    for (const m of ['status', 'discover', 'peers', 'shutdown', 'history', 'subscribe'] as const) {
      expect(MethodParams[m].safeParse(undefined).success, m).toBe(true)
    }
    expect(MethodParams.status.safeParse({}).success).toBe(true)
  })

  it('send: a peer id, non-empty text within the limit, optional timeout', () => {
    expect(MethodParams.send.parse({ to: 'Bob', text: 'hi' })).toEqual({ to: 'bob', text: 'hi' })
    expect(MethodParams.send.parse({ to: 'bob', text: 'hi', timeout: 0 }).timeout).toBe(0)
    expect(MethodParams.send.safeParse({ to: 'bob', text: '' }).success).toBe(false)
    expect(MethodParams.send.safeParse({ to: 'bob', text: 'x'.repeat(MAX_TEXT_BYTES + 1) }).success).toBe(false)
    expect(MethodParams.send.safeParse({ to: '-bob', text: 'hi' }).success).toBe(false)
    expect(MethodParams.send.safeParse({ to: 'bob', text: 'hi', timeout: -1 }).success).toBe(false)
    expect(MethodParams.send.safeParse({ to: 'bob', text: 'hi', timeout: 3601 }).success).toBe(false)
  })

  it('block, unblock, unmute: a valid peer', () => {
    for (const m of ['block', 'unblock', 'unmute'] as const) {
      expect(MethodParams[m].parse({ peer: 'CAROL' })).toEqual({ peer: 'carol' })
      expect(MethodParams[m].safeParse({ peer: 'a b' }).success).toBe(false)
      expect(MethodParams[m].safeParse({}).success).toBe(false)
    }
  })

  it('mute: an optional duration, as seconds or text', () => {
    expect(MethodParams.mute.parse({ peer: 'bob' })).toEqual({ peer: 'bob', for: undefined })
    expect(MethodParams.mute.parse({ peer: 'bob', for: '1h' }).for).toBe(3600)
    expect(MethodParams.mute.parse({ peer: 'bob', for: 90 }).for).toBe(90)
    expect(MethodParams.mute.safeParse({ peer: 'bob', for: 'soon' }).success).toBe(false)
    expect(MethodParams.mute.safeParse({ peer: 'bob', for: 0 }).success).toBe(false)
  })

  it('history: optional peer, limit and includeMuted', () => {
    expect(MethodParams.history.parse({ peer: 'Bob', limit: 5, includeMuted: true })).toEqual({ peer: 'bob', limit: 5, includeMuted: true })
    expect(MethodParams.history.safeParse({ limit: 0 }).success).toBe(false)
    expect(MethodParams.history.safeParse({ includeMuted: 'yes' }).success).toBe(false)
  })

  it('subscribe: a numeric cursor as watch prints it', () => {
    expect(MethodParams.subscribe.parse({ since: '42' })).toEqual({ since: '42' })
    expect(MethodParams.subscribe.safeParse({ since: 'abc' }).success).toBe(false)
    expect(MethodParams.subscribe.safeParse({ since: 42 }).success).toBe(false)
  })
})
