/**
 * `p2p daemon start|stop|status` as a user runs them, and "daemon not running" everywhere.
 */
import { existsSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { isProcessAlive } from '../../src/cli/daemon-launcher.js'
import { profilePaths } from '../../src/protocol/profile.js'
import { p2p, startDaemonProcess, tempHome } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'

/** Zombie-aware: a detached daemon's parent (pid 1 here) may reap it a moment after it exits. */
const alive = isProcessAlive

describe('p2p daemon', () => {
  const net = useNetwork([], { ttl: 5 })
  const home = tempHome()
  const pids = new Set<number>()

  afterAll(() => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL')
  })

  it('commands say how to start the daemon when it is not running (exit 3)', async () => {
    const fresh = tempHome()
    const human = await p2p(['peers'], { home: fresh })
    expect(human.code).toBe(3)
    expect(human.stdout).toBe('')
    expect(human.stderr).toBe(
      `p2p: the p2p daemon is not running (profile ${fresh}); start it with: p2p daemon start --user ID --home ${fresh}\n`,
    )

    const json = await p2p(['msg', 'bob', 'hi', '--json'], { home: fresh })
    expect(json).toMatchObject({ code: 3, stderr: '' })
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'daemon_not_running', message: expect.stringContaining('p2p daemon start') } })

    const status = await p2p(['daemon', 'status', '--json'], { home: fresh })
    expect(status.code).toBe(3)
    expect(JSON.parse(status.stdout)).toMatchObject({ running: false, error: { code: 'daemon_not_running' } })
  })

  it('a first start without --user fails with the daemon’s own reason (exit 2)', async () => {
    const fresh = tempHome()
    const result = await p2p(['daemon', 'start', '--server', net.server.url], { home: fresh })
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('p2p: the daemon did not start: this profile has no user yet: start it once with --user ID\n')
    const bad = await p2p(['daemon', 'start', '--user', '-nope', '--server', net.server.url, '--json'], { home: fresh })
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stdout).error.code).toBe('invalid_user_id')
  })

  it('start detaches and returns once the daemon answers; twice is harmless', async () => {
    const first = await p2p(['daemon', 'start', '--user', 'Carol', '--server', net.server.url, '--port', '0'], { home })
    expect(first.code).toBe(0)
    const m = /^daemon started for carol \(pid (\d+)\), peer port \d+, server http:\/\/127\.0\.0\.1:\d+\n$/.exec(first.stdout)
    expect(m).not.toBeNull()
    const pid = Number(m?.[1])
    pids.add(pid)
    expect(alive(pid)).toBe(true)

    const second = await p2p(['daemon', 'start'], { home })
    expect(second.code).toBe(0)
    expect(second.stdout).toBe(`daemon already running for carol (pid ${pid}); nothing to do\n`)
    const secondJson = await p2p(['daemon', 'start', '--json'], { home })
    expect(JSON.parse(secondJson.stdout)).toMatchObject({ started: false, running: true, pid, userId: 'carol' })

    const otherUser = await p2p(['daemon', 'start', '--user', 'dave'], { home })
    expect(otherUser.code).toBe(2)
    expect(otherUser.stderr).toMatch(/a daemon for carol already runs/)
  })

  it('status --json has the SPEC fields; human status is a short table', async () => {
    const status = await eventually(async () => {
      const r = await p2p(['daemon', 'status', '--json'], { home })
      const s = JSON.parse(r.stdout)
      return r.code === 0 && s.server.registered ? s : undefined
    })
    expect(status).toMatchObject({
      running: true,
      pid: expect.any(Number),
      userId: 'carol',
      fingerprint: expect.stringMatching(/^[0-9a-f]{4}(-[0-9a-f]{4})+$/),
      listen: { host: expect.any(String), port: expect.any(Number) },
      server: { url: net.server.url, registered: true },
      peers: { online: expect.any(Number), connected: expect.any(Number) },
      outbox: { queued: 0 },
      uptimeS: expect.any(Number),
      version: expect.any(String),
    })
    const human = await p2p(['daemon', 'status'], { home })
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^running\s+yes \(pid \d+, up \d+s\)$/m)
    expect(human.stdout).toMatch(/^server\s+http:\/\/127\.0\.0\.1:\d+ registered$/m)
  })

  it('stop waits until the process is gone; stop again exits 0', async () => {
    const { pid } = JSON.parse((await p2p(['daemon', 'status', '--json'], { home })).stdout)
    const stop = await p2p(['daemon', 'stop'], { home })
    expect(stop).toMatchObject({ code: 0, stdout: `daemon for carol stopped (pid ${pid})\n` })
    expect(alive(pid)).toBe(false)
    expect(existsSync(profilePaths(home).socket)).toBe(false)
    expect((await p2p(['daemon', 'status'], { home })).code).toBe(3)

    const again = await p2p(['daemon', 'stop', '--json'], { home })
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toEqual({ stopped: false, wasRunning: false })
  })

  it('a crashed daemon’s socket and pid file are cleaned up by the next start', async () => {
    const started = await p2p(['daemon', 'start', '--json'], { home })
    expect(started.code).toBe(0)
    const { pid } = JSON.parse(started.stdout)
    pids.add(pid)
    process.kill(pid, 'SIGKILL')
    await eventually(() => !alive(pid))
    const paths = profilePaths(home)
    expect(existsSync(paths.socket)).toBe(true)
    expect(existsSync(paths.pid)).toBe(true)

    const status = await p2p(['daemon', 'status'], { home })
    expect(status.code).toBe(3)

    const restarted = await p2p(['daemon', 'start', '--json'], { home })
    expect(restarted.code).toBe(0)
    const result = JSON.parse(restarted.stdout)
    pids.add(result.pid)
    expect(result).toMatchObject({ started: true, userId: 'carol' })
    expect(result.pid).not.toBe(pid)
    expect(result.staleRemoved).toEqual(expect.arrayContaining([paths.socket, paths.pid]))
    expect((await p2p(['daemon', 'stop'], { home })).code).toBe(0)
  })
})

describe('a daemon that does not answer (kill -STOP)', () => {
  const net = useNetwork([])

  it('commands fail with daemon_not_responding instead of hanging; stop --force ends it and cleans up', async () => {
    const daemon = await startDaemonProcess({ userId: 'frozen', serverUrl: net.server.url })
    const pid = daemon.child.pid as number
    const paths = profilePaths(daemon.home)
    process.kill(pid, 'SIGSTOP')
    try {
      const [fast, oclif, json, send] = await Promise.all([
        p2p(['daemon', 'status'], { home: daemon.home }),
        p2p(['peers'], { home: daemon.home }),
        p2p(['daemon', 'status', '--json'], { home: daemon.home, env: { P2P_NO_FAST_PATH: '1' } }),
        p2p(['msg', 'bob', 'hi', '--timeout', '1'], { home: daemon.home }),
      ])
      for (const result of [fast, oclif, send]) {
        expect(result.code).toBe(1)
        expect(result.stderr).toMatch(
          new RegExp(`^p2p: the p2p daemon at pid ${pid} does not answer .*end it with: p2p daemon stop --force --home ${daemon.home}\\n$`),
        )
      }
      expect(json.code).toBe(1)
      expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'daemon_not_responding', message: expect.stringContaining(`pid ${pid}`) } })

      const plainStop = await p2p(['daemon', 'stop'], { home: daemon.home })
      expect(plainStop.code).toBe(1)
      expect(plainStop.stderr).toMatch(/stop --force/)

      const stop = await p2p(['daemon', 'stop', '--force', '--json'], { home: daemon.home })
      expect(stop.code).toBe(0)
      expect(JSON.parse(stop.stdout)).toEqual({ stopped: true, wasRunning: true, pid, how: 'killed' })
      expect(alive(pid)).toBe(false)
      expect(existsSync(paths.socket)).toBe(false)
      expect(existsSync(paths.pid)).toBe(false)
      expect((await p2p(['daemon', 'status'], { home: daemon.home })).code).toBe(3)
    } finally {
      // Nothing is left to continue.
      try {
        process.kill(pid, 'SIGCONT')
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
  })

  it('stop --force on an answering daemon stops it with SIGTERM', async () => {
    const daemon = await startDaemonProcess({ userId: 'calm', serverUrl: net.server.url })
    const stop = await p2p(['daemon', 'stop', '--force'], { home: daemon.home })
    expect(stop).toMatchObject({ code: 0, stdout: `daemon for calm stopped (pid ${daemon.child.pid})\n` })
    expect(alive(daemon.child.pid as number)).toBe(false)
  })
})

/** A local port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('daemon start says "started" only when it works', () => {
  const net = useNetwork(['owner'])

  it('a malformed --server is a usage error before anything is stored (start and run alike)', async () => {
    const home = tempHome()
    for (const args of [
      ['daemon', 'start', '--user', 'mal', '--server', 'localhost:5000'],
      ['daemon', 'run', '--user', 'mal', '--server', 'ftp://example.org'],
      ['chat', '--user', 'mal', '--server', 'not a url'],
    ]) {
      const result = await p2p(args, { home })
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr).toMatch(/is not a discovery server URL such as http:\/\/127\.0\.0\.1:5000/)
    }
    expect(existsSync(profilePaths(home).database)).toBe(false)
    expect(existsSync(profilePaths(home).identity)).toBe(false)
  })

  it('a user id bound to another key fails the start with the server’s reason (exit 1) and stops the daemon', async () => {
    const home = tempHome()
    const result = await p2p(['daemon', 'start', '--user', 'owner', '--server', net.server.url], { home })
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      `p2p: the discovery server ${net.server.url} refused owner: owner is bound to another key; the daemon was stopped\n`,
    )
    expect((await p2p(['daemon', 'status'], { home })).code).toBe(3)
    const json = await p2p(['daemon', 'start', '--json'], { home })
    expect(JSON.parse(json.stdout).error.code).toBe('user_id_taken')
    // The refused name is not the profile's for good: another one may be chosen, then it sticks.
    try {
      const renamed = await p2p(['daemon', 'start', '--user', 'owner-two', '--server', net.server.url], { home })
      expect(renamed.stdout).toMatch(/^daemon started for owner-two/)
      await p2p(['daemon', 'stop'], { home })
      const third = await p2p(['daemon', 'start', '--user', 'owner-three'], { home })
      expect(third).toMatchObject({ code: 2, stderr: expect.stringMatching(/this profile belongs to owner-two/) })
    } finally {
      await p2p(['daemon', 'stop'], { home })
    }
  })

  it('a server that is down: started, unreachable, retrying (exit 0); flags another daemon has are refused', async () => {
    const home = tempHome()
    const down = `http://127.0.0.1:${await closedPort()}`
    try {
      const result = await p2p(['daemon', 'start', '--user', 'lonely', '--server', down], { home })
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(
        new RegExp(`^daemon started for lonely \\(pid \\d+\\), peer port \\d+, server ${down}; discovery server unreachable, retrying`),
      )
      const { listen } = JSON.parse((await p2p(['daemon', 'status', '--json'], { home })).stdout)

      const same = await p2p(['daemon', 'start', '--user', 'lonely', '--server', `${down}/`, '--port', String(listen.port)], { home })
      expect(same).toMatchObject({ code: 0, stdout: expect.stringMatching(/^daemon already running for lonely/) })
      const other = await p2p(['daemon', 'start', '--server', net.server.url, '--port', '1'], { home })
      expect(other.code).toBe(2)
      expect(other.stderr).toMatch(
        new RegExp(
          `these flags differ from it: --port 1 \\(it listens on ${listen.port}\\), --server ${net.server.url} \\(it uses ${down}\\); stop it first`,
        ),
      )
      const chat = await p2p(['chat', '--server', net.server.url], { home, input: '' })
      expect(chat.code).toBe(2)
      expect(chat.stderr).toMatch(/--server .* \(it uses /)
    } finally {
      await p2p(['daemon', 'stop'], { home })
    }
  })
})
