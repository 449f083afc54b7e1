/**
 * `daemon start` runs the daemon with DAEMON_NODE_FLAGS (a capped young generation: BENCHMARKS.md,
 * B9), and V8 takes them: the daemon's new space stays at the cap.
 */
import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { isProcessAlive } from '../../src/cli/daemon-launcher.js'
import { DAEMON_NODE_FLAGS } from '../../src/daemon/node-flags.js'
import { p2p, tempHome } from '../helpers/daemon.js'
import { useNetwork } from '../helpers/network.js'

describe('the daemon process', () => {
  const net = useNetwork([], { ttl: 5 })
  const home = tempHome()
  let pid: number | undefined

  afterAll(async () => {
    await p2p(['daemon', 'stop'], { home })
    if (pid !== undefined && isProcessAlive(pid)) process.kill(pid, 'SIGKILL')
  })

  it('is started with the daemon node flags', async () => {
    expect(DAEMON_NODE_FLAGS).toContain('--max-semi-space-size=1')
    const started = await p2p(['daemon', 'start', '--user', 'dora', '--server', net.server.url, '--port', '0', '--json'], { home })
    expect(started.code).toBe(0)
    pid = JSON.parse(started.stdout).pid
    expect(typeof pid).toBe('number')
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    // Node flags come before the script, where node (not p2p) reads them.
    const script = args.findIndex((a) => a.endsWith('run.js'))
    for (const flag of DAEMON_NODE_FLAGS) {
      expect(args.indexOf(flag)).toBeGreaterThan(0)
      expect(args.indexOf(flag)).toBeLessThan(script)
    }
  })
})
