/** The pure pieces of relay circuits across instances: frames with `url`, home records, bus messages, --relay-url. */
import { describe, expect, it } from 'vitest'
import { decodeRelayLine, encodeRelayFrame, RelayServerFrameSchema } from '../../src/protocol/relay.js'
import { checkRelayUrl } from '../../src/protocol/server-url.js'
import {
  decodeBusMessage,
  decodeHome,
  encodeBusMessage,
  encodeHome,
  homeKey,
  type RelayBusMessage,
  resolveRelayUrl,
} from '../../src/server/relay/relay-home.js'

const TOKEN = 'abcdefghijklmnopqrstuvwx'
const decodeServer = (frame: unknown) => decodeRelayLine(RelayServerFrameSchema, JSON.stringify(frame))

describe('dial_ok.url and incoming.url', () => {
  it('are optional, and when given an http(s) URL with a host', () => {
    const incoming = { t: 'incoming', from: 'alice', fromKey: 'ab'.repeat(32), token: TOKEN } as const
    expect(decodeServer(incoming)).toEqual(incoming)
    expect(decodeServer({ ...incoming, url: 'https://relay.example:8443' })).toEqual({ ...incoming, url: 'https://relay.example:8443' })
    expect(decodeServer({ ...incoming, url: 'ftp://relay.example' })).toBeUndefined()
    expect(decodeServer({ t: 'dial_ok', id: '1', token: TOKEN })).toEqual({ t: 'dial_ok', id: '1', token: TOKEN })
    const withUrl = { t: 'dial_ok', id: '1', token: TOKEN, url: 'http://10.0.0.2:5001' } as const
    expect(decodeServer(JSON.parse(encodeRelayFrame(withUrl)))).toEqual(withUrl)
    for (const url of ['ftp://10.0.0.2', 'file:///etc/passwd', 'not a url', 'http://', 'x'.repeat(600)]) {
      expect(decodeServer({ t: 'dial_ok', id: '1', token: TOKEN, url }), url).toBeUndefined()
    }
  })
})

describe('relay home records', () => {
  it('round-trip, sit in the user slot, and anything malformed reads as no home', () => {
    const home = { instance: 'inst-abcdefgh', url: 'http://10.0.0.2:5001', session: 'sess1' }
    expect(decodeHome(encodeHome(home))).toEqual(home)
    expect(homeKey('bob')).toBe('p2p:rh:{bob}')
    for (const bad of [null, undefined, '', 'nope', '{}', JSON.stringify({ i: 'short', u: 'http://h:1', s: 's' })]) {
      expect(decodeHome(bad), String(bad)).toBeUndefined()
    }
    expect(decodeHome(JSON.stringify({ i: 'inst-abcdefgh', u: 'gopher://h', s: 's' }))).toBeUndefined()
  })
})

describe('messages between instances', () => {
  it('round-trip; a message that does not fit is ignored', () => {
    const messages: RelayBusMessage[] = [
      { t: 'pair', rid: '7', reply: 'inst-abcdefgh', to: 'bob', from: 'alice', fromKey: 'ab'.repeat(32) },
      { t: 'paired', rid: '7', token: TOKEN, url: 'http://10.0.0.3:5000' },
      { t: 'refused', rid: '7', code: 'too_many_circuits', message: 'at most 32' },
    ]
    for (const m of messages) expect(decodeBusMessage(encodeBusMessage(m))).toEqual(m)
    expect(decodeBusMessage('{"t":"pair"}')).toBeUndefined()
    expect(decodeBusMessage('{"t":"paired","rid":"1","token":"short","url":"http://h:1"}')).toBeUndefined()
    expect(decodeBusMessage('not json')).toBeUndefined()
  })
})

describe('--relay-url', () => {
  it('is one http(s) URL with a host; a port of 0 stands for the listening port', () => {
    expect(checkRelayUrl('http://10.0.0.11:5001')).toBe('http://10.0.0.11:5001')
    for (const bad of ['10.0.0.11:5001', 'ftp://h', 'http://a:1,http://b:2', '']) {
      expect(() => checkRelayUrl(bad), bad).toThrow(expect.objectContaining({ code: 'usage' }))
    }
    expect(resolveRelayUrl('http://127.0.0.1:0', 40123)).toBe('http://127.0.0.1:40123')
    expect(resolveRelayUrl('https://relay.example:8443', 40123)).toBe('https://relay.example:8443')
    expect(resolveRelayUrl('http://[::1]:0', 5)).toBe('http://[::1]:5')
    expect(resolveRelayUrl(undefined, 5)).toBeUndefined()
  })
})
