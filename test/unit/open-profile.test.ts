import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveStartSettings } from '../../src/daemon/open-profile.js'
import { MAX_SOCKET_PATH_BYTES, profilePaths, socketPathFor } from '../../src/protocol/profile.js'

describe('profile paths and start settings', () => {
  it('falls back to a short socket path when the profile path is too long', () => {
    const deep = join(tmpdir(), 'x'.repeat(120))
    const socket = socketPathFor(deep)
    expect(Buffer.byteLength(socket)).toBeLessThanOrEqual(MAX_SOCKET_PATH_BYTES)
    expect(socketPathFor(deep)).toBe(socket)
    expect(profilePaths('/tmp/p').socket).toBe('/tmp/p/p2p.sock')
  })

  it('needs --user on first start, remembers it after, refuses another user for the profile', () => {
    expect(() => resolveStartSettings({}, {})).toThrow(/--user/)
    expect(resolveStartSettings({ userId: 'Alice' }, {})).toMatchObject({ userId: 'alice', port: 0, serverUrl: 'http://127.0.0.1:5000' })
    expect(resolveStartSettings({}, { userId: 'alice', port: '7000', serverUrl: 'http://s:1' })).toEqual({
      userId: 'alice',
      port: 7000,
      serverUrl: 'http://s:1',
    })
    expect(() => resolveStartSettings({ userId: 'bob' }, { userId: 'alice' })).toThrow(/belongs to alice/)
    expect(() => resolveStartSettings({ userId: 'bob' }, { userId: 'alice', userIdBound: 'yes' })).toThrow(/belongs to alice/)
  })

  it('lets a user id the server never accepted be replaced (a taken or mistyped name)', () => {
    expect(resolveStartSettings({ userId: 'bob' }, { userId: 'alice', userIdBound: 'no' })).toMatchObject({ userId: 'bob' })
  })
})
