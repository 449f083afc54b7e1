import { describe, expect, it } from 'vitest'
import { RelayServerFrameSchema } from '../../src/protocol/relay.js'
import { decodeRelayServerLine, wellFormedRelayServerFrame } from '../../src/protocol/relay-server-frame.js'
import { expectAgreement } from '../helpers/fast-check.js'

const HEX = 'c0'.repeat(32)
const TOKEN = 'AbCdEfGh_-123456'

const inputs: unknown[] = [
  { t: 'pong' },
  { t: 'pong', extra: 1 },
  { t: 'challenge', nonce: HEX },
  { t: 'challenge', nonce: HEX.toUpperCase() },
  { t: 'challenge', nonce: 'c0' },
  { t: 'challenge' },
  { t: 'ready', userId: 'alice' },
  { t: 'ready', userId: '' },
  { t: 'ready', userId: 5 },
  { t: 'dial_ok', id: 'c1', token: TOKEN },
  { t: 'dial_ok', id: 'c1', token: TOKEN, url: 'http://relay.example:8080' },
  { t: 'dial_ok', id: 'c1', token: TOKEN, url: 'ftp://relay.example' },
  { t: 'dial_ok', id: '', token: TOKEN },
  { t: 'dial_ok', id: 'x'.repeat(65), token: TOKEN },
  { t: 'dial_ok', id: 'c1', token: 'short' },
  { t: 'dial_ok', id: 'c1', token: `${TOKEN}!` },
  { t: 'dial_failed', id: 'c1', code: 'peer_unreachable', message: 'not connected' },
  { t: 'dial_failed', id: 'c1', code: 'peer_unreachable' },
  { t: 'dial_failed', code: 'x', message: 'y' },
  { t: 'incoming', from: 'bob', fromKey: HEX, token: TOKEN },
  { t: 'incoming', from: 'bob', fromKey: HEX, token: TOKEN, url: 'https://r.example' },
  { t: 'incoming', from: 'bob', fromKey: 'ab', token: TOKEN },
  { t: 'incoming', from: 7, fromKey: HEX, token: TOKEN },
  { t: 'error', code: 'unauthorized', message: 'bad signature' },
  { t: 'error', code: 'unauthorized', message: 5 },
  { t: 'auth', userId: 'alice', sig: 'ab'.repeat(64) },
  { t: 'ping' },
  { t: 'PONG' },
  {},
  null,
  [],
  'pong',
]

describe('wellFormedRelayServerFrame, the fast check of the relay server frames', () => {
  it('accepts only what RelayServerFrameSchema accepts, with the same data', () => {
    expect(expectAgreement(wellFormedRelayServerFrame, RelayServerFrameSchema, inputs)).toBeGreaterThanOrEqual(8)
  })

  it('decodes a line by the schema when the fast check is not sure, and refuses what the schema refuses', () => {
    const withUrl = { t: 'dial_ok', id: 'c1', token: TOKEN, url: 'http://relay.example:8080' }
    expect(wellFormedRelayServerFrame(withUrl)).toBeUndefined()
    expect(decodeRelayServerLine(JSON.stringify(withUrl))).toEqual(withUrl)
    expect(decodeRelayServerLine(JSON.stringify({ t: 'pong', x: 1 }))).toEqual({ t: 'pong' })
    expect(decodeRelayServerLine('{"t":"dial_ok","id":"c1","token":"short"}')).toBeUndefined()
    expect(decodeRelayServerLine('not json')).toBeUndefined()
  })
})
