import { describe, expect, it } from 'vitest'
import { registrationOf, settingsConflicts } from '../../src/cli/daemon-launcher.js'
import { resolveStartSettings } from '../../src/daemon/open-profile.js'
import type { StatusResult } from '../../src/protocol/rpc.js'
import { checkServerUrl, sameServerUrl } from '../../src/protocol/server-url.js'

describe('checkServerUrl', () => {
  it('takes http(s) URLs with a host and refuses the rest as a usage error', () => {
    expect(checkServerUrl('http://127.0.0.1:5000')).toBe('http://127.0.0.1:5000')
    expect(checkServerUrl('https://discovery.example/p2p')).toBe('https://discovery.example/p2p')
    for (const bad of ['localhost:5000', '127.0.0.1:5000', 'ftp://x', 'http://', 'not a url', '']) {
      expect(() => checkServerUrl(bad), bad).toThrow(expect.objectContaining({ code: 'usage' }))
    }
    expect(sameServerUrl('http://h:5000', 'http://h:5000/')).toBe(true)
    expect(sameServerUrl('http://h:5000', 'http://h:5001')).toBe(false)
  })

  it('resolveStartSettings refuses a malformed URL, given or stored, so daemon run refuses it too', () => {
    expect(() => resolveStartSettings({ userId: 'alice', serverUrl: 'localhost:5000' }, {})).toThrow(/not a discovery server URL/)
    expect(() => resolveStartSettings({}, { userId: 'alice', serverUrl: 'localhost:5000' })).toThrow(/not a discovery server URL/)
  })
})

const status = (server: StatusResult['server']): StatusResult =>
  ({ userId: 'alice', pid: 1, home: '/h', listen: { host: '::', port: 7000 }, server }) as StatusResult

describe('what a start compares and reports', () => {
  it('settingsConflicts: only flags given and different; --port 0 matches any port', () => {
    const running = status({ url: 'http://s:1', registered: true })
    expect(settingsConflicts({}, running)).toEqual([])
    expect(settingsConflicts({ userId: 'Alice', port: 0, serverUrl: 'http://s:1/' }, running)).toEqual([])
    expect(settingsConflicts({ userId: 'bob', port: 7001, serverUrl: 'http://t:1' }, running)).toEqual([
      '--user bob (it runs for alice)',
      '--port 7001 (it listens on 7000)',
      '--server http://t:1 (it uses http://s:1)',
    ])
  })

  it('registrationOf tells a server that is down from one that refused', () => {
    expect(registrationOf(status({ url: 'u', registered: true }))).toBe('registered')
    expect(registrationOf(status({ url: 'u', registered: false }))).toBe('pending')
    const unreachable = {
      url: 'u',
      registered: false,
      error: 'discovery server u unreachable: fetch failed',
      errorCode: 'server_unreachable',
    }
    expect(registrationOf(status(unreachable))).toBe('unreachable')
    const taken = { url: 'u', registered: false, error: 'alice is bound to another key', errorCode: 'user_id_taken' }
    expect(registrationOf(status(taken))).toBe('refused')
    // The code decides, not the wording: a refusal whose text says "unreachable" is still a refusal.
    expect(registrationOf(status({ ...taken, error: 'unreachable is bound to another key' }))).toBe('refused')
  })
})
