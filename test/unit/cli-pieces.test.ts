import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { CHAT_COMMANDS, complete, helpText, nearestCommand } from '../../src/cli/chat/commands.js'
import { REQUEST_TIMEOUT_MS, requestAllowanceMs, SEND_TIMEOUT_MARGIN_MS } from '../../src/cli/control-client.js'
import { exitCodeFor } from '../../src/cli/exit-codes.js'
import { daemonSettings, daemonSettingsArgs } from '../../src/cli/flags.js'
import { sanitize } from '../../src/cli/format.js'
import { countSend, emptyTally, sendSummary } from '../../src/cli/render.js'
import { stdinLineBatches } from '../../src/cli/stdin-lines.js'
import Chat from '../../src/commands/chat.js'
import { resolveHome } from '../../src/protocol/profile.js'

describe('sanitize', () => {
  it('shows terminal controls instead of obeying them', () => {
    expect(sanitize('\x1b[31mred\x1b[0m')).toBe('^[[31mred^[[0m')
    expect(sanitize('bell\x07 del\x7f c1\x9b')).toBe('bell^G del^? c1\\x9b')
    expect(sanitize('a\nb')).toBe('a\\nb')
    expect(sanitize('a\nb', '    ')).toBe('a\n    b')
    expect(sanitize('tabs\tstay, émoji 👋 too')).toBe('tabs\tstay, émoji 👋 too')
  })

  it('defuses bidirectional overrides that could reorder what is shown', () => {
    expect(sanitize('abc\u202edcba')).not.toContain('\u202e')
  })
})

describe('chat completion and hints', () => {
  it('completes commands after a slash and peer ids as their first argument', () => {
    expect(complete('/bl', [])).toEqual([['/block '], '/bl'])
    const [hits, word] = complete('/msg b', ['alice', 'bea', 'bob'])
    expect([hits, word]).toEqual([['bea ', 'bob '], 'b'])
    expect(complete('hello', ['bob'])).toEqual([[], 'hello'])
  })

  it('/help and chat --help list every command of the table', () => {
    const help = helpText()
    for (const command of CHAT_COMMANDS) {
      expect(help, command.name).toContain(`  ${command.usage}  `)
      expect(help, command.name).toContain(command.help)
      expect(Chat.description, command.name).toContain(command.usage)
    }
    expect(help).toContain('/trust <peer>')
  })

  it('suggests the nearest command for a typo, and nothing for nonsense', () => {
    expect(nearestCommand('blokc')).toBe('block')
    expect(nearestCommand('hist')).toBe('history')
    expect(nearestCommand('xyzzy')).toBeUndefined()
  })
})

describe('exit codes', () => {
  it('maps the stable error codes of SPEC section 5', () => {
    expect(exitCodeFor('daemon_not_running')).toBe(3)
    expect(exitCodeFor('unknown_peer')).toBe(4)
    expect(exitCodeFor('blocked')).toBe(5)
    expect(exitCodeFor('usage')).toBe(2)
    expect(exitCodeFor('message_too_large')).toBe(2)
    expect(exitCodeFor('key_changed')).toBe(1)
    expect(exitCodeFor('something_new')).toBe(1)
  })
})

describe('resolveHome', () => {
  it('takes --home, then P2P_HOME, then XDG_DATA_HOME/p2p, then ~/.local/share/p2p', () => {
    expect(resolveHome('/flag/home', { P2P_HOME: '/env/home' })).toBe('/flag/home')
    expect(resolveHome(undefined, { P2P_HOME: '/env/home', XDG_DATA_HOME: '/xdg' })).toBe('/env/home')
    expect(resolveHome(undefined, { XDG_DATA_HOME: '/xdg' })).toBe('/xdg/p2p')
    expect(resolveHome(undefined, {})).toMatch(new RegExp(`${join('.local', 'share', 'p2p')}$`))
  })
})

describe('daemon flags', () => {
  it('map to the settings a daemon starts with, and back to the flags of daemon run', () => {
    expect(daemonSettings({ user: 'alice', port: 0, server: 'http://s:1' })).toEqual({ userId: 'alice', port: 0, serverUrl: 'http://s:1' })
    expect(daemonSettings({ user: '', server: '' })).toEqual({})
    expect(daemonSettingsArgs({ userId: 'alice', port: 0, serverUrl: 'http://s:1' })).toEqual([
      '--user',
      'alice',
      '--port',
      '0',
      '--server',
      'http://s:1',
    ])
    expect(daemonSettingsArgs({})).toEqual([])
  })
})

describe('requestAllowanceMs', () => {
  it('gives send its own timeout plus a margin, server methods longer, the rest a few seconds', () => {
    expect(requestAllowanceMs('send', { to: 'bob', text: 'x', timeout: 30 })).toBe(30_000 + SEND_TIMEOUT_MARGIN_MS)
    expect(requestAllowanceMs('send', { to: 'bob', text: 'x' })).toBe(10_000 + SEND_TIMEOUT_MARGIN_MS)
    expect(requestAllowanceMs('discover', undefined)).toBeGreaterThan(REQUEST_TIMEOUT_MS)
    expect(requestAllowanceMs('status', {})).toBe(REQUEST_TIMEOUT_MS)
    expect(exitCodeFor('daemon_not_responding')).toBe(1)
  })
})

describe('the msg --quiet summary', () => {
  it('counts answered sends by status', () => {
    const tally = emptyTally()
    // An unknown status (a newer daemon's) counts as sent only.
    for (const status of ['delivered', 'queued', 'delivered', 'failed', 'carrier-pigeon']) countSend(tally, status)
    expect(sendSummary(tally)).toBe('sent 5: 2 delivered, 1 queued, 1 failed')
    countSend(tally, 'mailbox')
    expect(sendSummary(tally)).toBe('sent 6: 2 delivered, 1 in mailboxes, 1 queued, 1 failed')
  })
})

describe('stdinLineBatches', () => {
  const linesOf = async (chunks: Array<Buffer | string>) => {
    const lines: string[] = []
    for await (const batch of stdinLineBatches(Readable.from(chunks))) lines.push(...batch)
    return lines
  }

  it('skips blank lines (empty, white space, a lone CR) but keeps counting them', async () => {
    expect(await linesOf([Buffer.from('a\n\n \t\r\n\r\nb\r\n\n')])).toEqual(['a', 'b'])
    await expect(linesOf([Buffer.from('\n\n'), Buffer.from([0xff, 0x0a])])).rejects.toThrow('line 3 of stdin is not valid UTF-8')
  })

  it('joins lines split across chunks, keeps the last line without a newline, and names the bad line', async () => {
    expect(await linesOf(['one\ntw', 'o\nthr', 'ee'])).toEqual(['one', 'two', 'three'])
    // A character split between two chunks is still one character.
    const euro = Buffer.from('€\n')
    expect(await linesOf([euro.subarray(0, 1), euro.subarray(1)])).toEqual(['€'])
    // Lines before a bad one come out first; the error names the line, counting blank ones.
    const seen: string[] = []
    const reading = (async () => {
      for await (const batch of stdinLineBatches(
        Readable.from([Buffer.concat([Buffer.from('a\n\nb\n'), Buffer.from([0xc3, 0x0a]), Buffer.from('c\n')])]),
      ))
        seen.push(...batch)
    })()
    await expect(reading).rejects.toThrow('line 4 of stdin is not valid UTF-8')
    expect(seen).toEqual(['a', 'b'])
    const long = 'x'.repeat(64 * 1024 + 1)
    await expect(linesOf([`ok\n${long}\n`])).rejects.toThrow(/line 2 of stdin is over/)
    await expect(linesOf(['ok\n', long])).rejects.toThrow(/line 2 of stdin is over/)
    expect(await linesOf([`${'é'.repeat(32 * 1024)}\n`])).toHaveLength(1)
    await expect(linesOf([`${'é'.repeat(32 * 1024 + 1)}\n`])).rejects.toThrow(/line 1 of stdin is over/)
  })
})
