/**
 * Real daemons in temp profiles, driven over their control sockets, and the built `p2p` binary run
 * as a user would. Needs `npm run build` first (the test script does it).
 */
import { type ChildProcess, type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ControlClient, callOnce, type Method, onDaemonEvent, type ParamsArg } from '../../src/cli/control-client.js'
import { socketPathFor } from '../../src/protocol/profile.js'
import type { DaemonEvent, MessageEvent, ParamsOf, ResultOf } from '../../src/protocol/rpc.js'
import { eventually } from './eventually.js'
import { reapOnExit } from './reaper.js'
import { BIN, REPO_ROOT } from './server.js'

// Most test files took it from here before it had a module of its own.
export { eventually } from './eventually.js'

/** Fast timings so that tests wait for conditions in seconds, not minutes. */
export const FAST_ENV: NodeJS.ProcessEnv = {
  P2P_RETRY_BASE_MS: '100',
  P2P_RETRY_MAX_MS: '500',
  P2P_DISCOVERY_RETRY_MAX_MS: '500',
  P2P_PING_INTERVAL_MS: '1000',
  NO_COLOR: '1',
}

export function tempHome(prefix = 'p2p-home-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export interface DaemonProcess {
  home: string
  userId: string
  port: number
  socket: string
  child: ChildProcess
  /** One control request on a connection of its own, through the CLI's ControlClient, typed per method. */
  rpc<M extends Method>(method: M, ...params: ParamsArg<M>): Promise<ResultOf[M]>
  /** The same, for tests that name the result type themselves (written before rpc was typed). */
  rpc<T>(method: Method, params?: ParamsOf<Method>): Promise<T>
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>
  /** SIGKILL, like a crash. */
  kill(): Promise<void>
  output(): string
}

export interface DaemonProcessOptions {
  userId?: string
  home?: string
  serverUrl: string
  port?: number
  env?: NodeJS.ProcessEnv
  /** A command that runs the daemon (e.g. strace and its flags), before `node`. */
  wrap?: string[]
  /** Extra flags of `daemon run`, e.g. ['--listen', 'off']. */
  args?: string[]
}

export async function startDaemonProcess(options: DaemonProcessOptions): Promise<DaemonProcess> {
  const home = options.home ?? tempHome()
  const args = [BIN, 'daemon', 'run', '--home', home, '--server', options.serverUrl, '--port', String(options.port ?? 0)]
  if (options.userId) args.push('--user', options.userId)
  args.push(...(options.args ?? []))
  const child = reapOnExit(
    spawn(options.wrap?.[0] ?? process.execPath, options.wrap ? [...options.wrap.slice(1), process.execPath, ...args] : args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...FAST_ENV, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s))
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s))
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`daemon did not start within 45 s:\n${out}`))
      // Generous: a start took over 20 s once while four test suites shared the two cores.
    }, 45_000)
    const onData = () => {
      const m = / on port (\d+),/.exec(out)
      if (m) {
        clearTimeout(timer)
        child.off('exit', onExit)
        resolve(Number(m[1]))
      }
    }
    const onExit = (code: number | null) => {
      clearTimeout(timer)
      reject(new Error(`daemon exited with ${code} before starting:\n${out}`))
    }
    child.stdout!.on('data', onData)
    child.once('exit', onExit)
  })
  const socket = socketPathFor(home, { ...process.env, ...FAST_ENV, ...options.env })
  const exited = () =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve(child.exitCode)
      : new Promise<number | null>((r) => child.once('exit', (c) => r(c)))
  return {
    home,
    userId: options.userId ?? '',
    port,
    socket,
    child,
    rpc: (method: Method, params?: ParamsOf<Method>) => callOnce(socket, method, params as never),
    stop: async () => {
      child.kill('SIGTERM')
      return exited()
    },
    kill: async () => {
      child.kill('SIGKILL')
      await exited()
    },
    output: () => out,
  }
}

export const status = (d: DaemonProcess) => d.rpc('status')

/** A control connection for a test that drives the protocol itself (pipelining, subscriptions). */
export function testClient(socketPath: string): ControlClient {
  return new ControlClient(socketPath, { notRunningMessage: `no daemon answers on ${socketPath}` })
}

/** Daemons for `userIds`, started in parallel, each registered with the server before this resolves. */
export async function startRegisteredDaemons(serverUrl: string, userIds: string[], env?: NodeJS.ProcessEnv): Promise<DaemonProcess[]> {
  const daemons = await Promise.all(userIds.map((userId) => startDaemonProcess({ userId, serverUrl, ...(env ? { env } : {}) })))
  for (const d of daemons) await eventually(async () => (await status(d)).server.registered)
  return daemons
}

/** Sends each text on one pipelined connection, in order; returns the texts whose send was answered. */
export async function pipelinedSends(
  socketPath: string,
  to: string,
  all: string[],
  onAnswered?: (count: number) => void,
): Promise<string[]> {
  const client = testClient(socketPath)
  const answered: string[] = []
  // Written in order without waiting; a daemon that dies rejects what is still pending.
  await Promise.allSettled(
    all.map(async (text) => {
      await client.call('send', { to, text, timeout: 0 })
      answered.push(text)
      onAnswered?.(answered.length)
    }),
  )
  client.close()
  return answered
}

export interface Subscription {
  events: MessageEvent[]
  /** Events other than messages (a timed mute that ended, ...). */
  notices: Exclude<DaemonEvent, MessageEvent>[]
  cursor: string
  close(): void
}

/** Subscribes on a long-lived connection; `events` fills as notifications arrive. */
export async function subscribe(socketPath: string, since?: string): Promise<Subscription> {
  const client = testClient(socketPath)
  const events: MessageEvent[] = []
  const notices: Subscription['notices'] = []
  onDaemonEvent(client, (event) => (event.type === 'message' ? events.push(event) : notices.push(event)))
  try {
    const { cursor } = await client.call('subscribe', since ? { since } : {})
    return { events, notices, cursor, close: () => client.close() }
  } catch (error) {
    client.close()
    throw error
  }
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface LiveCli {
  child: ChildProcessWithoutNullStreams
  stdout(): string
  stderr(): string
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>
}

/** The built `p2p` binary as a child that runs on (watch, chat): its output as it comes. */
export function spawnCli(args: string[], options: { home?: string; env?: NodeJS.ProcessEnv } = {}): LiveCli {
  const child = reapOnExit(
    spawn(process.execPath, [BIN, ...args, ...(options.home ? ['--home', options.home] : [])], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...FAST_ENV, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  )
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s))
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exited }
}

/** Runs the built `p2p` binary like a user would, to its end (killed past `timeoutMs`). */
export async function p2p(
  args: string[],
  options: { home?: string; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const cli = spawnCli(args, options)
  cli.child.stdin.end(options.input ?? '')
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), timeoutMs)
  const code = await cli.exited.finally(() => clearTimeout(timer))
  if (code === null && cli.child.signalCode === 'SIGKILL') {
    throw new Error(`p2p ${args.join(' ')} did not finish within ${timeoutMs} ms\n${cli.stdout()}\n${cli.stderr()}`)
  }
  return { code, stdout: cli.stdout(), stderr: cli.stderr() }
}
