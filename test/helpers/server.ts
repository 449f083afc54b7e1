/**
 * Spawns the built `p2p server` (bin/run.js, so `npm run build` first) on a free port and waits
 * for its `listening on` line: no fixed sleeps. Shared with the daemon and end-to-end tests.
 *
 * Nothing touches the real home: XDG_DATA_HOME points at a fresh temp dir unless `env` sets it,
 * and the registry is in memory unless `db` is given or `memory: false` asks for the default file.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { reapOnExit } from './reaper.js'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(REPO_ROOT, 'bin', 'run.js')

export interface ServerProcessOptions {
  /** Default 0 (any free port); a fixed port only to restart a server where clients expect it. */
  port?: number
  ttl?: number
  db?: string
  /** Default true unless `db` is given; `false` without `db` uses the default path under XDG_DATA_HOME. */
  memory?: boolean
  env?: NodeJS.ProcessEnv
  /** The address to listen on; 127.0.0.1 unless given. */
  host?: string
  /** Extra flags, e.g. ['--rate-limit', '0']. */
  args?: string[]
  /** How long to wait for the listening line (ms). */
  timeoutMs?: number
}

export interface ServerProcess {
  url: string
  port: number
  child: ChildProcess
  /** The XDG_DATA_HOME the server was given. */
  dataHome: string
  /** SIGTERM, then the exit code (null when killed by a signal). */
  stop(): Promise<number | null>
  /** SIGKILL, like a crash. */
  kill(): Promise<void>
  stdout(): string
  stderr(): string
}

export function serverArgs(options: ServerProcessOptions): string[] {
  const args = ['server', '--host', options.host ?? '127.0.0.1', '--port', String(options.port ?? 0)]
  if (options.ttl !== undefined) args.push('--ttl', String(options.ttl))
  if (options.db) args.push('--db', options.db)
  else if (options.memory !== false) args.push('--memory')
  return [...args, ...(options.args ?? [])]
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

export async function startServerProcess(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  if (!existsSync(join(REPO_ROOT, 'dist', 'commands', 'server.js')))
    throw new Error('dist/commands/server.js is missing: run `npm run build` first')
  const dataHome = options.env?.XDG_DATA_HOME ?? mkdtempSync(join(tmpdir(), 'p2p-server-test-'))
  const child = reapOnExit(
    spawn(process.execPath, [BIN, ...serverArgs(options)], {
      cwd: REPO_ROOT,
      env: { ...process.env, XDG_DATA_HOME: dataHome, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s))
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s))

  const url = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`no listening line within ${options.timeoutMs ?? 20_000} ms`)),
      options.timeoutMs ?? 20_000,
    )
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) done(() => resolvePromise(m[1]!))
    }
    const onExit = (code: number | null) => fail(new Error(`server exited with ${code} before listening`))
    const fail = (e: Error) => {
      child.kill('SIGKILL')
      done(() => reject(new Error(`${e.message}\nstdout: ${out}\nstderr: ${err}`)))
    }
    const done = (then: () => void) => {
      clearTimeout(timer)
      child.stdout!.off('data', onData)
      child.off('exit', onExit)
      then()
    }
    child.stdout!.on('data', onData)
    child.once('exit', onExit)
  })

  return {
    url,
    port: Number(new URL(url).port),
    child,
    dataHome,
    async stop() {
      const code = exited(child)
      child.kill('SIGTERM')
      return code
    },
    async kill() {
      const code = exited(child)
      child.kill('SIGKILL')
      await code
    },
    stdout: () => out,
    stderr: () => err,
  }
}

/**
 * Starts a server again on the port an earlier one had, as a restarted server would be: clients
 * keep its URL. Another process may briefly hold that port (a client socket got it as its
 * ephemeral port), so a start that fails is tried again a few times.
 */
export async function restartServerProcess(port: number, options: ServerProcessOptions = {}): Promise<ServerProcess> {
  let lastError: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await startServerProcess({ ...options, port })
    } catch (error) {
      lastError = error
      await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)))
    }
  }
  throw lastError
}
