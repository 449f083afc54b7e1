/**
 * `p2p daemon run` starts without oclif (src/cli/daemon-run-path.ts). Both paths must behave
 * alike: each command line runs twice, the second time with P2P_NO_FAST_PATH=1 (oclif).
 */
import { describe, expect, it } from 'vitest'
import { type CliResult, eventually, p2p, spawnCli, tempHome } from '../helpers/daemon.js'
import { useNetwork } from '../helpers/network.js'

const OCLIF = { P2P_NO_FAST_PATH: '1' }
/** Each case starts node a dozen times, oclif's in seconds each on a busy machine. */
const SLOW = 240_000

/** Log lines (JSON on stderr) with their clock and pid masked. */
const steady = (r: CliResult): CliResult => ({ ...r, stderr: r.stderr.replace(/"time":\d+,"pid":\d+/g, '"time":T,"pid":P') })

/** The same command line on both paths, each in a fresh profile unless `home` is given. */
async function bothPaths(args: string[], home?: string): Promise<{ direct: CliResult; oclif: CliResult }> {
  const direct = await p2p(['daemon', 'run', ...args], { home: home ?? tempHome() })
  const oclif = await p2p(['daemon', 'run', ...args], { home: home ?? tempHome(), env: OCLIF })
  return { direct: steady(direct), oclif: steady(oclif) }
}

/** Starts `daemon run` until it says it is ready, stops it with SIGTERM; its output and exit code, the port masked. */
async function runUntilReady(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const cli = spawnCli(['daemon', 'run', ...args], { home: tempHome(), env })
  await eventually(() => /control socket .+\n/.test(cli.stdout()), { timeout: 45_000 })
  cli.child.kill('SIGTERM')
  const code = await cli.exited
  return { code, stdout: cli.stdout().replace(/port \d+, control socket \S+/, 'port N, control socket S'), stderr: '' }
}

describe('daemon run without oclif answers like oclif', () => {
  const net = useNetwork(['alice'])

  it(
    'refuses what oclif refuses, with the same words, JSON and exit codes',
    async () => {
      for (const args of [
        ['--json'], // a new profile without --user
        [],
        ['--user', 'Bad!Id', '--server', net.server.url],
        ['--user', 'Bad!Id', '--server', net.server.url, '--json'],
        ['--user', 'someone', '--server', 'ftp://example.org'],
        ['--user', 'someone', '--port', '70000', '--json'],
        ['--user', 'someone', '--listen', 'not a host'],
        ['--user', 'someone', '--advertise', 'host:99999'],
        ['--user', 'someone', '--bogus'],
        ['--user', 'someone', '--port'],
        ['--user', 'someone', '--user', 'other'],
        ['extra'],
      ]) {
        const { direct, oclif } = await bothPaths(args)
        expect(direct, args.join(' ')).toEqual(oclif)
        expect(direct.code, args.join(' ')).toBe(2)
      }
      // A profile whose daemon already runs.
      for (const json of [[], ['--json']]) {
        const { direct, oclif } = await bothPaths(['--server', net.server.url, ...json], net.alice.home)
        expect(direct).toEqual(oclif)
        expect(direct.code).not.toBe(0)
      }
    },
    SLOW,
  )

  it(
    'runs until SIGTERM and exits 0, empty --listen and --advertise taken as oclif takes them',
    async () => {
      const args = ['--user', 'carol', '--server', net.server.url, '--port', '0', '--listen=127.0.0.1', '--advertise', '']
      const direct = await runUntilReady(args)
      expect(direct).toEqual({ code: 0, stdout: 'p2p daemon for carol on port N, control socket S\n', stderr: '' })
      expect(await runUntilReady(args, OCLIF)).toEqual(direct)
    },
    SLOW,
  )

  it('help still reaches oclif', async () => {
    const help = await p2p(['daemon', 'run', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('USAGE')
  })
})
