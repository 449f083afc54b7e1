/**
 * One-shot commands against a real server and two real daemons: human and --json output, exit
 * codes, input errors, and a stdin pipeline.
 */
import { describe, expect, it } from 'vitest'
import Peers from '../../src/commands/peers.js'
import { runInProcess } from '../helpers/command.js'
import { p2p, testClient } from '../helpers/daemon.js'
import { useNetwork } from '../helpers/network.js'
import { runWithBytes } from './spawn.js'

describe('p2p one-shot commands', () => {
  const net = useNetwork(['alice', 'bob'])

  it('discover lists the other online user, human and --json', async () => {
    const human = await p2p(['discover'], { home: net.alice.home })
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^USER\s+ONLINE\s+ADDRESS/m)
    expect(human.stdout).toMatch(/^bob\s+yes\s+127\.0\.0\.1:\d+/m)
    expect(human.stdout).not.toMatch(/^alice/m)

    const json = await p2p(['discover', '--json'], { home: net.alice.home })
    expect(json.code).toBe(0)
    const peers = JSON.parse(json.stdout) as Array<Record<string, unknown>>
    expect(peers).toEqual([expect.objectContaining({ userId: 'bob', online: true, blocked: false, muted: false, port: net.bob.port })])
    expect(peers[0]?.fingerprint).toMatch(/^[0-9a-f-]+$/)
  })

  it('msg sends words joined by spaces and reports delivered; --json gives {id,to,status}', async () => {
    const human = await p2p(['msg', 'bob', 'hello', 'there'], { home: net.alice.home })
    expect(human).toMatchObject({ code: 0, stdout: 'delivered\n', stderr: '' })

    const json = await p2p(['msg', 'Bob', 'second one', '--json'], { home: net.alice.home })
    expect(json.code).toBe(0)
    const result = JSON.parse(json.stdout)
    expect(result).toEqual({ id: expect.any(String), to: 'bob', status: 'delivered' })

    const history = await net.bob.rpc('history', { peer: 'alice' })
    expect(history.slice(-2).map((e) => e.text)).toEqual(['hello there', 'second one'])
    expect(history.at(-1)?.id).toBe(result.id)
  })

  it('peers lists known peers, human and --json', async () => {
    const human = await p2p(['peers'], { home: net.bob.home })
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^alice\s+yes\s+/m)
    const json = await p2p(['peers', '--json'], { home: net.bob.home })
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ userId: 'alice', online: true, blocked: false, muted: false })])
  })

  it('in process, through createClient(), a command gets the same answer from the real daemon', async () => {
    const run = await runInProcess(Peers, ['--json'], testClient(net.bob.socket))
    expect(run).toMatchObject({ exitCode: 0, stderr: '' })
    expect(run.result).toEqual(JSON.parse(run.stdout))
    expect(run.result).toEqual([expect.objectContaining({ userId: 'alice', online: true, blocked: false, muted: false })])
  })

  it('history shows the conversation oldest first; --limit and --json', async () => {
    const human = await p2p(['history', 'alice', '--limit', '2'], { home: net.bob.home })
    expect(human.code).toBe(0)
    const lines = human.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d\] alice -> bob: hello there$/)
    expect(lines[1]).toMatch(/alice -> bob: second one$/)

    const json = await p2p(['history', '--json', '--limit', '1'], { home: net.alice.home })
    const entries = JSON.parse(json.stdout)
    expect(entries).toEqual([
      {
        id: expect.any(String),
        from: 'alice',
        to: 'bob',
        text: 'second one',
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        status: 'delivered',
      },
    ])
  })

  it('block, unblock, mute, unmute say whether anything changed, human and --json', async () => {
    expect((await p2p(['mute', 'alice'], { home: net.bob.home })).stdout).toBe('muted alice\n')
    expect((await p2p(['mute', 'alice'], { home: net.bob.home })).stdout).toBe('alice was already muted (nothing changed)\n')
    const unmute = await p2p(['unmute', 'alice', '--json'], { home: net.bob.home })
    expect(JSON.parse(unmute.stdout)).toEqual({ peer: 'alice', changed: true, blocked: false, muted: false })
    const again = await p2p(['unmute', 'alice', '--json'], { home: net.bob.home })
    expect(JSON.parse(again.stdout)).toMatchObject({ peer: 'alice', changed: false })
    expect((await p2p(['unmute', 'alice'], { home: net.bob.home })).stdout).toBe('alice was not muted (nothing changed)\n')

    const timed = await p2p(['mute', 'alice', '--for', '30m', '--json'], { home: net.bob.home })
    const muted = JSON.parse(timed.stdout)
    expect(muted).toMatchObject({ peer: 'alice', changed: true, muted: true })
    const minutes = (Date.parse(muted.mutedUntil) - Date.now()) / 60_000
    expect(minutes).toBeGreaterThan(28)
    expect(minutes).toBeLessThan(31)
    await p2p(['unmute', 'alice'], { home: net.bob.home })

    const badDuration = await p2p(['mute', 'alice', '--for', 'soon'], { home: net.bob.home })
    expect(badDuration.code).toBe(2)
    expect(badDuration.stderr).toMatch(/^p2p: --for "soon" is not a duration/)

    expect((await p2p(['block', 'carol'], { home: net.alice.home })).stdout).toBe('blocked carol\n')
    const blockAgain = await p2p(['block', 'carol', '--json'], { home: net.alice.home })
    expect(JSON.parse(blockAgain.stdout)).toEqual({ peer: 'carol', changed: false, blocked: true, muted: false })
    expect((await p2p(['unblock', 'carol'], { home: net.alice.home })).stdout).toBe('unblocked carol\n')
    expect((await p2p(['unblock', 'carol'], { home: net.alice.home })).stdout).toBe('carol was not blocked (nothing changed)\n')
  })

  it('trust says when the pinned key is already the one the server binds; an offline stranger exits 4', async () => {
    await p2p(['msg', 'bob', 'pin each other'], { home: net.alice.home })
    const human = await p2p(['trust', 'bob'], { home: net.alice.home })
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^bob's key [0-9a-f-]{24} is already the one pinned \(nothing changed\)\n$/)
    const json = await p2p(['trust', 'bob', '--json'], { home: net.alice.home })
    expect(JSON.parse(json.stdout)).toEqual({ peer: 'bob', changed: false, fingerprint: expect.stringMatching(/^[0-9a-f-]{24}$/) })
    expect((await p2p(['trust', 'nobody-here'], { home: net.alice.home })).code).toBe(4)
  })

  it('sending to a peer I blocked exits 5; to an unknown peer exits 4', async () => {
    await p2p(['block', 'bob'], { home: net.alice.home })
    try {
      const blocked = await p2p(['msg', 'bob', 'hi'], { home: net.alice.home })
      expect(blocked.code).toBe(5)
      expect(blocked.stderr).toMatch(/^p2p: bob is blocked/)
      const json = await p2p(['msg', 'bob', 'hi', '--json'], { home: net.alice.home })
      expect(json.code).toBe(5)
      expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'blocked', message: expect.any(String) } })
    } finally {
      await p2p(['unblock', 'bob'], { home: net.alice.home })
    }
    const unknown = await p2p(['msg', 'nobody-here', 'hi'], { home: net.alice.home })
    expect(unknown.code).toBe(4)
    expect(unknown.stderr).toMatch(/unknown peer "nobody-here"/)
    const json = await p2p(['msg', 'nobody-here', 'hi', '--json'], { home: net.alice.home })
    expect(json).toMatchObject({ code: 4, stderr: '' })
    expect(JSON.parse(json.stdout).error.code).toBe('unknown_peer')
  })

  it('empty, oversized and invalid-user-id input exits 2 with a clear message', async () => {
    const empty = await p2p(['msg', 'bob', ''], { home: net.alice.home })
    expect(empty.code).toBe(2)
    expect(empty.stderr).toBe('p2p: message is empty\n')
    const big = await p2p(['msg', 'bob', 'x'.repeat(64 * 1024 + 1), '--json'], { home: net.alice.home })
    expect(big.code).toBe(2)
    expect(JSON.parse(big.stdout).error).toEqual({ code: 'message_too_large', message: expect.stringMatching(/65537 bytes.*65536/) })
    const exact = await p2p(['msg', 'bob', 'y'.repeat(64 * 1024)], { home: net.alice.home })
    expect(exact).toMatchObject({ code: 0, stdout: 'delivered\n' })
    const badId = await p2p(['block', 'Not Valid!', '--json'], { home: net.alice.home })
    expect(badId.code).toBe(2)
    expect(JSON.parse(badId.stdout).error.code).toBe('invalid_user_id')
  })

  it('usage errors exit 2: unknown command, unknown flag, missing argument', async () => {
    const unknownCommand = await p2p(['frobnicate'])
    expect(unknownCommand.code).toBe(2)
    expect(unknownCommand.stderr).toBe('p2p: "frobnicate" is not a p2p command (see p2p --help)\n')
    const typo = await p2p(['daemon', 'stat', '--json'])
    expect(typo.code).toBe(2)
    expect(JSON.parse(typo.stdout)).toEqual({ error: { code: 'usage', message: expect.stringContaining('did you mean "daemon status"') } })

    const unknownFlag = await p2p(['peers', '--bogus'], { home: net.alice.home })
    expect(unknownFlag.code).toBe(2)
    expect(unknownFlag.stderr).toMatch(/^p2p: Nonexistent flag: --bogus \(see: p2p peers --help\)\n$/)
    const unknownFlagJson = await p2p(['peers', '--bogus', '--json'], { home: net.alice.home })
    expect(unknownFlagJson.code).toBe(2)
    expect(JSON.parse(unknownFlagJson.stdout)).toEqual({ error: { code: 'usage', message: expect.stringContaining('--bogus') } })

    const missing = await p2p(['block'], { home: net.alice.home, input: 'bob\n' })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/Missing 1 required arg/)
    const missingMsg = await p2p(['msg', '--json'], { home: net.alice.home })
    expect(missingMsg.code).toBe(2)
    expect(JSON.parse(missingMsg.stdout).error.code).toBe('usage')
  })

  it('a stdin pipeline of 500 lines arrives in order, one status line per message', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `pipe ${String(i).padStart(3, '0')}`)
    const result = await p2p(['msg', 'bob'], { home: net.alice.home, input: `${lines.join('\n')}\n` })
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('delivered\n'.repeat(500))
    const history = await net.bob.rpc('history', { peer: 'alice', limit: 2000 })
    expect(history.map((e) => e.text).filter((t) => t.startsWith('pipe '))).toEqual(lines)

    const json = await p2p(['msg', 'bob', '--json'], { home: net.alice.home, input: 'j1\r\nj2' })
    expect(json.code).toBe(0)
    const results = json.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(results).toEqual([
      { id: expect.any(String), to: 'bob', status: 'delivered' },
      { id: expect.any(String), to: 'bob', status: 'delivered' },
    ])
    const last = await net.bob.rpc('history', { peer: 'alice', limit: 2 })
    expect(last.map((e) => e.text)).toEqual(['j1', 'j2'])
  })

  it('bad stdin lines stop the command with exit 2; the lines before them were sent', async () => {
    const invalid = await runWithBytes(
      ['msg', 'bob', '--json'],
      Buffer.from([0x6f, 0x6b, 0x0a, 0xff, 0xfe, 0x0a, 0x6e, 0x6f, 0x0a]),
      net.alice.home,
    )
    expect(invalid.code).toBe(2)
    const out = invalid.stdout.trimEnd().split('\n')
    expect(out).toHaveLength(2)
    expect(JSON.parse(out[0] as string)).toMatchObject({ to: 'bob', status: 'delivered' })
    expect(JSON.parse(out[1] as string)).toEqual({ error: { code: 'bad_request', message: 'line 2 of stdin is not valid UTF-8' } })

    const huge = await p2p(['msg', 'bob'], { home: net.alice.home, input: `${'z'.repeat(70_000)}\nnever\n` })
    expect(huge.code).toBe(2)
    expect(huge.stderr).toMatch(/^p2p: line 1 of stdin is over 65536 bytes/)

    const history = await net.bob.rpc('history', { peer: 'alice', limit: 3 })
    expect(history.map((e) => e.text)).toEqual(['j1', 'j2', 'ok'])

    const nothing = await p2p(['msg', 'bob'], { home: net.alice.home, input: '' })
    expect(nothing.code).toBe(2)
    expect(nothing.stderr).toMatch(/no message/)
  })

  it('blank stdin lines are skipped, not the end of the pipe (tail -f log | p2p msg bob)', async () => {
    const blank = await p2p(['msg', 'bob'], { home: net.alice.home, input: 'before blank\n\n  \t\r\n\r\nafter blank\n\n' })
    expect(blank).toEqual({ code: 0, stdout: 'delivered\ndelivered\n', stderr: '' })
    const history = await net.bob.rpc('history', { peer: 'alice', limit: 2 })
    expect(history.map((e) => e.text)).toEqual(['before blank', 'after blank'])
    const onlyBlank = await p2p(['msg', 'bob'], { home: net.alice.home, input: '\n\n' })
    expect(onlyBlank.code).toBe(2)
    expect(onlyBlank.stderr).toMatch(/no message/)
  })

  it('--quiet: no line per message, one summary at the end (stderr; a document with --json)', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => `quiet ${i}`)
    const quiet = await p2p(['msg', 'bob', '--quiet'], { home: net.alice.home, input: `${lines.join('\n')}\n` })
    expect(quiet).toEqual({ code: 0, stdout: '', stderr: 'sent 50: 50 delivered, 0 queued, 0 failed\n' })
    const json = await p2p(['msg', 'bob', '-q', '--json'], { home: net.alice.home, input: 'a\nb\n' })
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual({ sent: 2, delivered: 2, queued: 0, failed: 0 })
    expect(json.stderr).toBe('')
    const one = await p2p(['msg', 'bob', 'just', 'one', '--quiet'], { home: net.alice.home })
    expect(one).toEqual({ code: 0, stdout: '', stderr: 'sent 1: 1 delivered, 0 queued, 0 failed\n' })
    const queued = await p2p(['msg', 'nobody-here', '--quiet'], { home: net.alice.home, input: 'x\n' })
    expect(queued.code).toBe(4)
    expect(queued.stderr).not.toMatch(/^sent/m)
  })

  it('remote ANSI escapes are shown harmlessly by history', async () => {
    const evil = '\x1b[2J\x1b]0;pwned\x07red\x1b[31m!\r\nsecond line\x9b'
    const sent = await net.alice.rpc('send', { to: 'bob', text: evil })
    expect(sent.status).toBe('delivered')
    const human = await p2p(['history', 'alice', '--limit', '1'], { home: net.bob.home })
    expect(human.code).toBe(0)
    expect(human.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/)
    expect(human.stdout).toContain('^[[2J^[]0;pwned^Gred^[[31m!^M')
    // The second line is indented under the text: it cannot pass for a line of its own.
    expect(human.stdout).toMatch(/\n {10,}second line\\x9b\n$/)
    const json = await p2p(['history', 'alice', '--limit', '1', '--json'], { home: net.bob.home })
    expect(JSON.parse(json.stdout)[0].text).toBe(evil)
  })
})
