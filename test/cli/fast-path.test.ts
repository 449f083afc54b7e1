/**
 * `p2p msg PEER TEXT` and `p2p daemon status` skip oclif (src/cli/fast-path.ts). Both paths must
 * answer alike: each case runs twice, the second time with P2P_NO_FAST_PATH=1 (oclif).
 */
import { describe, expect, it } from 'vitest'
import { p2p, tempHome } from '../helpers/daemon.js'
import { useNetwork } from '../helpers/network.js'

const bothPaths = async (args: string[], home: string) => {
  const fast = await p2p(args, { home })
  const oclif = await p2p(args, { home, env: { P2P_NO_FAST_PATH: '1' } })
  return { fast, oclif }
}
const withoutClock = (json: string) => {
  const { uptimeS: _uptime, ...rest } = JSON.parse(json)
  return rest
}

describe('the fast path answers like oclif', () => {
  const net = useNetwork(['alice', 'bob'])

  it('msg: delivered, JSON, and each error with its exit code', async () => {
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

    // --quiet is oclif's alone: the fast path hands it over, so both answer alike.
    const quiet = await bothPaths(['msg', 'bob', 'quietly', '--quiet'], net.alice.home)
    expect(quiet.fast).toEqual({ code: 0, stdout: '', stderr: 'sent 1: 1 delivered, 0 queued, 0 failed\n' })
    expect(quiet.oclif).toEqual(quiet.fast)
  })

  it('daemon status: human, JSON, and not running', async () => {
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
  })
})
