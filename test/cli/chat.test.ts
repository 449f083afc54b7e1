/**
 * `p2p chat`: scripted through piped stdin, starting its own daemon, and in a real terminal
 * (tmux) where an incoming message must appear above a half-typed line without breaking it.
 */
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { FAST_ENV, p2p, tempHome } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'
import { BIN, REPO_ROOT } from '../helpers/server.js'
import { hasTmux, jsonLines } from './spawn.js'

describe('p2p chat', () => {
  const net = useNetwork(['alice', 'bob'])

  it('reads commands from piped stdin, hints at mistakes, and exits 0 at end of input', async () => {
    const script = [
      '/msg bob hello   from a script',
      '/blokc bob',
      '/block',
      'no query yet',
      '/query bob',
      'plain line to bob',
      '//slash at the start',
      '/history bob',
      '/mute bob 1h',
      '/unmute bob',
      '/status',
      '/trust bob',
    ].join('\n')
    const result = await p2p(['chat'], { home: net.alice.home, input: `${script}\n` })
    expect(result.code).toBe(0)
    expect(result.stdout.match(/^delivered to bob$/gm)).toHaveLength(3)
    expect(result.stdout).toMatch(/^talking to bob/m)
    expect(result.stdout).toMatch(/alice -> bob: plain line to bob$/m)
    expect(result.stdout).toMatch(/^muted bob until /m)
    expect(result.stdout).toMatch(/^unmuted bob$/m)
    expect(result.stdout).toMatch(/^user\s+alice$/m)
    expect(result.stdout).toMatch(/^bob's key [0-9a-f-]{24} is already the one pinned/m)
    expect(result.stderr).toBe(
      [
        'p2p chat: unknown command /blokc; did you mean /block? (/help lists commands)',
        'p2p chat: usage: /block <peer>',
        'p2p chat: no conversation open: /query <peer> first, or /msg <peer> <message> (/help for more)',
        '',
      ].join('\n'),
    )
    const history = await net.bob.rpc('history', { peer: 'alice', limit: 3 })
    expect(history.map((e) => e.text)).toEqual(['hello   from a script', 'plain line to bob', '/slash at the start'])
  })

  it('ends quietly at end of input: no false "connection to the daemon was closed"', async () => {
    for (const input of ['', '/help\n', '/peers\n']) {
      const result = await p2p(['chat'], { home: net.alice.home, input })
      expect(result, JSON.stringify(input)).toMatchObject({ code: 0, stderr: '' })
    }
  })

  it('daemon errors print a line and the session goes on; /exit ends it; --json gives JSON lines', async () => {
    const script = [
      '/msg nobody-at-all hi',
      '/block bob',
      '/msg bob blocked?',
      '/unblock bob',
      '/msg bob after',
      '/exit',
      '/msg bob never',
    ].join('\n')
    const result = await p2p(['chat', '--json'], { home: net.alice.home, input: `${script}\n` })
    expect(result.code).toBe(0)
    const lines = jsonLines(result.stdout)
    expect(lines.map((l) => (l.type === 'error' ? `error:${l.code}` : `${l.type}:${l.command}`))).toEqual([
      'error:unknown_peer',
      'result:block',
      'error:blocked',
      'result:unblock',
      'result:msg',
    ])
    expect(lines.at(-1)).toMatchObject({ result: { to: 'bob', status: 'delivered' } })
    const last = await net.bob.rpc('history', { peer: 'alice', limit: 1 })
    expect(last[0]?.text).toBe('after')
  })

  it('chat --user starts the daemon first when it is not running', async () => {
    const home = tempHome()
    try {
      const result = await p2p(['chat', '--user', 'erin', '--server', net.server.url], { home, input: '/status\n' })
      expect(result.code).toBe(0)
      expect(result.stderr).toMatch(/^started the daemon for erin \(pid \d+\)\n$/)
      expect(result.stdout).toMatch(/^user\s+erin$/m)
      const status = await p2p(['daemon', 'status', '--json'], { home })
      expect(JSON.parse(status.stdout)).toMatchObject({ running: true, userId: 'erin' })
    } finally {
      await p2p(['daemon', 'stop'], { home })
    }
    const notRunning = await p2p(['chat'], { home: tempHome(), input: '' })
    expect(notRunning.code).toBe(3)
    expect(notRunning.stderr).toMatch(/p2p daemon start --user ID.*p2p chat --user ID/)
  })

  it.skipIf(!hasTmux())(
    'in a terminal, an incoming message appears above the half-typed line, which survives; Ctrl-C clears a line, then quits',
    async () => {
      const socket = `p2p-cli-test-${process.pid}-${Date.now()}`
      const tmux = (...args: string[]) =>
        spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env: { ...process.env, ...FAST_ENV } })
      const screen = () => tmux('capture-pane', '-p').stdout
      // A failure shows the screen it waited on: a terminal test is hard to debug from a timeout alone.
      const onScreen = async (check: (text: string) => boolean, what: string) => {
        try {
          await eventually(() => check(screen()))
        } catch {
          throw new Error(`${what}: not on the screen within the deadline; the screen:\n${screen()}`)
        }
      }
      try {
        const started = tmux(
          'new-session',
          '-d',
          '-x',
          '120',
          '-y',
          '30',
          '-c',
          REPO_ROOT,
          `${process.execPath} ${BIN} chat --home ${net.alice.home}`,
        )
        expect(started.status).toBe(0)
        await onScreen((t) => /^alice>\s*$/m.test(t), 'the prompt')
        tmux('send-keys', '-l', '/msg bob half typed')
        await onScreen((t) => t.includes('alice> /msg bob half typed'), 'the typed line')

        await net.bob.rpc('send', { to: 'alice', text: 'ping \x1b[31mfrom bob' })
        const lines = await eventually(() => {
          const rows = screen().split('\n')
          const incoming = rows.findIndex((r) => /^\[\d\d:\d\d\] bob: ping \^\[\[31mfrom bob$/.test(r))
          const prompt = rows.indexOf('alice> /msg bob half typed')
          return incoming >= 0 && prompt > incoming ? rows : undefined
        })
        // The typed text is still in readline's buffer, not just painted: Enter sends it.
        expect(lines.filter((r) => r.includes('half typed'))).toHaveLength(1)
        tmux('send-keys', 'Enter')
        await eventually(async () => {
          const h = await net.bob.rpc('history', { peer: 'alice', limit: 1 })
          return h[0]?.text === 'half typed'
        })
        await onScreen((t) => t.includes('delivered to bob'), 'delivered to bob')

        // Tab completes commands and peer ids.
        tmux('send-keys', '-l', '/unm')
        tmux('send-keys', 'Tab')
        tmux('send-keys', '-l', 'b')
        tmux('send-keys', 'Tab')
        await onScreen((t) => /^alice> \/unmute bob\s*$/m.test(t), 'the completed /unmute bob')

        // Ctrl-C drops the half-typed line and the session goes on; on an empty line it leaves.
        const lastLine = () => screen().trimEnd().split('\n').at(-1)
        tmux('send-keys', 'Left')
        tmux('send-keys', 'C-c')
        await onScreen(() => lastLine() === 'alice>', 'an empty prompt after Ctrl-C')
        tmux('send-keys', '-l', '/peers')
        tmux('send-keys', 'Enter')
        await onScreen((t) => /^bob\s+yes/m.test(t), 'the /peers table')
        tmux('send-keys', 'C-c')
        await eventually(() => tmux('has-session').status !== 0)
      } finally {
        tmux('kill-server')
      }
    },
  )
})
