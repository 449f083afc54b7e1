/**
 * Signals a service manager or a terminal sends: SIGHUP neither kills `p2p daemon run` nor leaves
 * stale files; it reopens daemon.log, so a log rotator can move the file away. `daemon run` logs
 * to stderr as well (journald), the detached daemon of `daemon start` to its log file only.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type DaemonProcess, eventually, p2p, startDaemonProcess, status, tempHome } from '../helpers/daemon.js'
import { type ServerProcess, startServerProcess } from '../helpers/server.js'

let server: ServerProcess | undefined
const daemons: DaemonProcess[] = []
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop()))
  await server?.stop()
  server = undefined
})

async function startAlice(): Promise<DaemonProcess> {
  server = await startServerProcess()
  const alice = await startDaemonProcess({ userId: 'alice', serverUrl: server.url })
  daemons.push(alice)
  return alice
}

const logLines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l) as { msg: string })

describe('daemon signals and logs', () => {
  it('SIGHUP leaves `daemon run` running and answering', async () => {
    const alice = await startAlice()
    alice.child.kill('SIGHUP')
    await eventually(() => alice.output().includes('reopened daemon.log'))
    expect(alice.child.exitCode).toBe(null)
    expect(alice.child.signalCode).toBe(null)
    expect((await status(alice)).running).toBe(true)
  })

  it('after logrotate moved daemon.log away, SIGHUP makes the daemon write a new daemon.log', async () => {
    const alice = await startAlice()
    const log = join(alice.home, 'daemon.log')
    await eventually(() => existsSync(log) && logLines(log).length > 0)
    renameSync(log, `${log}.1`)
    alice.child.kill('SIGHUP')
    await eventually(() => existsSync(log) && logLines(log).some((l) => l.msg === 'reopened daemon.log'))
    // The daemon goes on logging to the new file: a stop is its last line there.
    expect(await alice.stop()).toBe(0)
    daemons.length = 0
    expect(logLines(log).at(-1)?.msg).toBe('stopped')
    expect(logLines(`${log}.1`).some((l) => l.msg === 'stopped')).toBe(false)
  })

  it('`daemon run` logs JSON lines to stderr as well as to daemon.log', async () => {
    const alice = await startAlice()
    await eventually(() =>
      alice
        .output()
        .split('\n')
        .some((l) => l.startsWith('{') && JSON.parse(l).pid === alice.child.pid),
    )
    expect(logLines(join(alice.home, 'daemon.log')).length).toBeGreaterThan(0)
  })

  it('the detached daemon of `daemon start` writes its log to daemon.log only, not to daemon.out', async () => {
    server = await startServerProcess()
    const home = tempHome()
    const started = await p2p(['daemon', 'start', '--user', 'bob', '--server', server.url, '--port', '0'], { home })
    expect(started.code).toBe(0)
    try {
      expect(logLines(join(home, 'daemon.log')).length).toBeGreaterThan(0)
      expect(readFileSync(join(home, 'daemon.out'), 'utf8')).not.toMatch(/^\{/m)
    } finally {
      expect((await p2p(['daemon', 'stop'], { home })).code).toBe(0)
    }
  })
})
