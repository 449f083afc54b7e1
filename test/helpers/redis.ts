/**
 * A real `redis-server` for a test: no TCP port (`--port 0`), a Unix socket in its own temp dir,
 * nothing written to disk. Ready once `redis-cli ping` answers PONG; `restart()` brings it back on
 * the same socket, empty, as a Redis restarted without persistence would be.
 *
 * CI installs redis-server (.ci/run), so these tests never skip there; on a machine without it
 * they fail with a message that says what to install.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually } from './eventually.js'
import { reapOnExit } from './reaper.js'

export interface RedisProcess {
  /** `unix:///…/r.sock`, as `p2p server --redis` takes it. */
  url: string
  socket: string
  /** Stops it (SIGTERM) and waits for the exit. */
  stop(): Promise<void>
  /** Starts it again on the same socket (empty). */
  start(): Promise<void>
  /** Stops it and removes its directory. */
  dispose(): Promise<void>
  /** Runs one redis-cli command against it, returning its output. */
  cli(...args: string[]): string
}

export function redisAvailable(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0
}

export async function startRedis(): Promise<RedisProcess> {
  if (!redisAvailable()) throw new Error('redis-server is not installed: apt-get install -y redis-server')
  const dir = mkdtempSync(join(tmpdir(), 'p2p-redis-'))
  const socket = join(dir, 'r.sock')
  let child: ChildProcess | undefined
  const cli = (...args: string[]) =>
    execFileSync('redis-cli', ['-s', socket, ...args], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim()

  const start = async () => {
    const proc = reapOnExit(
      spawn(
        'redis-server',
        ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir],
        { stdio: 'ignore' },
      ),
    )
    child = proc
    await eventually(
      () => {
        if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`)
        return cli('ping') === 'PONG'
      },
      { timeout: 20_000 },
    )
  }
  const stop = async () => {
    const proc = child
    child = undefined
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise((resolve) => proc.once('exit', resolve))
    proc.kill('SIGTERM')
    await exited
  }

  await start()
  return {
    url: `unix://${socket}`,
    socket,
    stop,
    start,
    cli,
    async dispose() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
