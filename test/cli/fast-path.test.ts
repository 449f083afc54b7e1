/**
 * The one-shot commands (`msg PEER TEXT`, `daemon status`, `peers`, `history`, `block`...) skip
 * oclif (src/cli/fast-path.ts). Both paths must answer alike: each case runs twice, the second
 * time with P2P_NO_FAST_PATH=1 (oclif); commands that change state run the same sequence on each.
 */
import { describe, expect, it } from 'vitest'
import { type CliResult, p2p, startDaemonProcess, tempHome } from '../helpers/daemon.js'
import { useNetwork } from '../helpers/network.js'

/** Each case spawns the CLI a dozen times or more, oclif's in seconds each on a busy machine. */
const SLOW = 240_000

const bothPaths = async (args: string[], home: string) => {
  const fast = await p2p(args, { home })
  const oclif = await p2p(args, { home, env: { P2P_NO_FAST_PATH: '1' } })
  return { fast, oclif }
}
const withoutClock = (json: string) => {
  const { uptimeS: _uptime, ...rest } = JSON.parse(json)
  return rest
}
/** Output with what moves between two runs a second apart (times, ages, pids) masked. */
const steady = (r: CliResult) => ({
  code: r.code,
  stdout: r.stdout
    .replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?Z)?/g, 'TIME')
    .replace(/\d+[smhd] ago/g, 'AGO')
    .replace(/pid \d+|"pid":\d+/g, 'PID')
    .replace(/"(lastSeen|mutedUntil)":\d+/g, '"$1":TIME'),
  stderr: r.stderr,
})
/** Runs the commands in order on the fast path, then the same on oclif: state ends where it began. */
const sequenceBothWays = async (commands: string[][], home: string) => {
  const fast: CliResult[] = []
  for (const args of commands) fast.push(await p2p(args, { home }))
  const oclif: CliResult[] = []
  for (const args of commands) oclif.push(await p2p(args, { home, env: { P2P_NO_FAST_PATH: '1' } }))
  return { fast: fast.map(steady), oclif: oclif.map(steady) }
}

describe('the fast path answers like oclif', () => {
  const net = useNetwork(['alice', 'bob'])
  const sameBothWays = async (args: string[], home = net.alice.home) => {
    const { fast, oclif } = await bothPaths(args, home)
    expect(steady(fast), args.join(' ')).toEqual(steady(oclif))
    return fast
  }

  it(
    'msg: delivered, JSON, and each error with its exit code',
    async () => {
      const plain = await bothPaths(['msg', 'bob', 'hello', 'fast', 'path'], net.alice.home)
      expect(plain.fast).toEqual({ code: 0, stdout: 'delivered\n', stderr: '' })
      expect(plain.oclif).toEqual(plain.fast)

      const json = await bothPaths(['msg', 'bob', 'hi', '--json', '--timeout', '5'], net.alice.home)
      expect(json.fast.code).toBe(0)
      expect(Object.keys(JSON.parse(json.fast.stdout)).sort()).toEqual(['id', 'status', 'to'])
      expect(Object.keys(JSON.parse(json.oclif.stdout)).sort()).toEqual(['id', 'status', 'to'])

      for (const args of [
        ['msg', 'nobody-here', 'hi'],
        ['msg', 'Bad!Id', 'hi'],
        ['msg', 'alice', 'to myself'],
        ['msg', 'bob', 'x'.repeat(70_000)],
        ['msg', 'nobody-here', 'hi', '--json'],
      ]) {
        const { fast, oclif } = await bothPaths(args, net.alice.home)
        expect(fast.code, args.join(' ').slice(0, 40)).toBe(oclif.code)
        expect(fast.stdout).toBe(oclif.stdout)
        expect(fast.stderr).toBe(oclif.stderr)
      }
      expect((await p2p(['msg', 'nobody-here', 'hi'], { home: net.alice.home })).code).toBe(4)

      const quiet = await bothPaths(['msg', 'bob', 'quietly', '--quiet'], net.alice.home)
      expect(quiet.fast).toEqual({ code: 0, stdout: '', stderr: 'sent 1: 1 delivered, 0 queued, 0 failed\n' })
      expect(quiet.oclif).toEqual(quiet.fast)
    },
    SLOW,
  )

  it(
    'msg from stdin: status lines, JSON lines, --quiet summaries, and input errors after what was sent',
    async () => {
      const home = net.alice.home
      const viaBoth = async (args: string[], input: string) => ({
        fast: await p2p(args, { home, input }),
        oclif: await p2p(args, { home, input, env: { P2P_NO_FAST_PATH: '1' } }),
      })
      const lines = 'one\n\ntwo\nthree\n'
      const plain = await viaBoth(['msg', 'bob'], lines)
      expect(plain.fast).toEqual({ code: 0, stdout: 'delivered\ndelivered\ndelivered\n', stderr: '' })
      expect(plain.oclif).toEqual(plain.fast)

      const json = await viaBoth(['msg', 'bob', '--json'], lines)
      for (const r of [json.fast, json.oclif]) {
        expect(r.code).toBe(0)
        expect(
          r.stdout
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l).status),
        ).toEqual(['delivered', 'delivered', 'delivered'])
      }

      const quiet = await viaBoth(['msg', 'bob', '--quiet'], lines)
      expect(quiet.fast).toEqual({ code: 0, stdout: '', stderr: 'sent 3: 3 delivered, 0 queued, 0 failed\n' })
      expect(quiet.oclif).toEqual(quiet.fast)
      const quietJson = await viaBoth(['msg', 'bob', '--quiet', '--json'], lines)
      expect(JSON.parse(quietJson.fast.stdout)).toEqual({ sent: 3, delivered: 3, queued: 0, failed: 0 })
      expect(quietJson.oclif).toEqual(quietJson.fast)

      // A line over 64 KiB stops the command with exit 2; the line before it went out.
      const tooLong = await viaBoth(['msg', 'bob', '--quiet'], `before\n${'x'.repeat(70_000)}\nafter\n`)
      expect(tooLong.fast.code).toBe(2)
      expect(tooLong.fast.stderr).toMatch(/^sent 1: 1 delivered, 0 queued, 0 failed\np2p: .*line 2/)
      expect(tooLong.oclif).toEqual(tooLong.fast)

      for (const [args, input] of [
        [['msg', 'bob'], ''], // nothing to send
        [['msg', 'bob', '--json'], '\n \n'],
        [['msg', 'nobody-here'], 'hi\n'],
        [['msg', 'nobody-here', '--json'], 'hi\nthere\n'],
      ] as const) {
        const { fast, oclif } = await viaBoth([...args], input)
        expect(fast, `${args.join(' ')} < ${JSON.stringify(input)}`).toEqual(oclif)
        expect(fast.code).not.toBe(0)
      }
    },
    SLOW,
  )

  it(
    'daemon status: human, JSON, and not running',
    async () => {
      const human = await bothPaths(['daemon', 'status'], net.alice.home)
      expect(human.fast.code).toBe(0)
      expect(human.fast.stdout.replace(/up \d+s/, '')).toBe(human.oclif.stdout.replace(/up \d+s/, ''))

      const json = await bothPaths(['daemon', 'status', '--json'], net.alice.home)
      expect(withoutClock(json.fast.stdout)).toEqual(withoutClock(json.oclif.stdout))

      const nobody = tempHome()
      for (const args of [
        ['daemon', 'status'],
        ['daemon', 'status', '--json'],
      ]) {
        const { fast, oclif } = await bothPaths(args, nobody)
        expect(fast).toEqual(oclif)
        expect(fast.code).toBe(3)
      }
    },
    SLOW,
  )

  it(
    'peers, discover and history: tables, JSON, empty answers and errors',
    async () => {
      await p2p(['msg', 'bob', 'a line for the history'], { home: net.alice.home })
      expect((await sameBothWays(['peers'])).stdout).toMatch(/^USER +ONLINE/)
      expect(JSON.parse((await sameBothWays(['peers', '--json'])).stdout)[0]).toMatchObject({ userId: 'bob' })
      expect((await sameBothWays(['discover'])).stdout).toContain('bob')
      await sameBothWays(['discover', '--json'])
      expect((await sameBothWays(['history'])).stdout).toContain('alice -> bob: a line for the history')
      await sameBothWays(['history', 'BOB', '--limit', '2', '--include-muted'])
      expect(JSON.parse((await sameBothWays(['history', '--json', '--limit=1'])).stdout)).toHaveLength(1)
      expect((await sameBothWays(['history', 'nobody-here'])).stdout).toBe('no messages with nobody-here yet\n')
      expect((await sameBothWays(['history', 'Bad!Id'])).code).toBe(2)
      expect((await sameBothWays(['history', 'Bad!Id', '--json'])).code).toBe(2)
      const fresh = tempHome()
      for (const args of [['peers'], ['history', '--json'], ['discover']]) expect((await sameBothWays(args, fresh)).code).toBe(3)
    },
    SLOW,
  )

  it(
    'block, unblock, mute, unmute and trust: each answer, changed or not, and their errors',
    async () => {
      // The first trust pins bob's key as seen now; every trust after it, on either path, changes nothing.
      expect((await p2p(['trust', 'bob'], { home: net.alice.home })).code).toBe(0)
      const policy = await sequenceBothWays(
        [
          ['block', 'bob'],
          ['block', 'bob', '--json'],
          ['msg', 'bob', 'while blocked'],
          ['unblock', 'bob'],
          ['unblock', 'bob'],
          ['mute', 'bob', '--for', '30m'],
          ['mute', 'bob', '--json'],
          ['unmute', 'bob'],
          ['unmute', 'bob', '--json'],
          ['mute', 'bob'],
          ['unmute', 'Bob'],
          ['block', 'nobody-here'],
          ['unblock', 'nobody-here'],
          ['block', 'Bad!Id', '--json'],
          ['trust', 'bob'],
          ['trust', 'bob', '--json'],
          ['trust', 'bob', '--fingerprint', '0000-0000-0000-0000-0000'],
        ],
        net.alice.home,
      )
      expect(policy.fast).toEqual(policy.oclif)
      expect(policy.fast.map((r) => r.code)).toEqual([0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 1])
      expect(policy.fast[0]?.stdout).toBe('blocked bob\n')
      expect(policy.fast[4]?.stdout).toBe('bob was not blocked (nothing changed)\n')
      expect(policy.fast[5]?.stdout).toBe('muted bob until TIME\n')
      expect(policy.fast[14]?.stdout).toMatch(/^bob's key \S+ is already the one pinned \(nothing changed\)\n$/)
    },
    SLOW,
  )

  it(
    'daemon stop: a running daemon, and none',
    async () => {
      const nobody = tempHome()
      for (const args of [
        ['daemon', 'stop'],
        ['daemon', 'stop', '--json'],
      ])
        expect((await sameBothWays(args, nobody)).code).toBe(0)

      const results: CliResult[] = []
      let carol = await startDaemonProcess({ userId: 'carol', serverUrl: net.server.url })
      for (const env of [{}, { P2P_NO_FAST_PATH: '1' }]) {
        results.push(await p2p(['daemon', 'stop'], { home: carol.home, env }))
        expect(await carol.stop()).not.toBeUndefined()
        expect((await p2p(['daemon', 'status'], { home: carol.home })).code).toBe(3)
        carol = await startDaemonProcess({ userId: 'carol', serverUrl: net.server.url, home: carol.home })
      }
      await carol.stop()
      expect(steady(results[0] as CliResult)).toEqual({ code: 0, stdout: 'daemon for carol stopped (PID)\n', stderr: '' })
      expect(steady(results[1] as CliResult)).toEqual(steady(results[0] as CliResult))
    },
    SLOW,
  )

  it('help, typos and unknown flags still reach oclif', async () => {
    const help = await p2p(['peers', '--help'])
    expect(help.stdout).toContain('USAGE')
    const typo = await p2p(['pers'], { home: net.alice.home })
    expect(typo.stderr).toContain('peers')
    const unknown = await p2p(['history', '--limt', '3'], { home: net.alice.home })
    expect(unknown).toMatchObject({ code: 2, stdout: '' })
    expect(unknown.stderr).toContain('--limt')
  })
})
