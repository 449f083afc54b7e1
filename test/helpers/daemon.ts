/**
 * Real daemons in temp profiles, driven over their control sockets, and the built `p2p` binary run
 * as a user would. Needs `npm run build` first (the test script does it).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { socketPathFor } from '../../src/protocol/profile.js'
import type { StatusResult } from '../../src/protocol/rpc.js'
import { BIN, REPO_ROOT, type ServerProcess, startServerProcess } from './server.js'

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
  rpc<T = unknown>(method: string, params?: unknown): Promise<T>
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
}

export async function startDaemonProcess(options: DaemonProcessOptions): Promise<DaemonProcess> {
  const home = options.home ?? tempHome()
  const args = [BIN, 'daemon', 'run', '--home', home, '--server', options.serverUrl, '--port', String(options.port ?? 0)]
  if (options.userId) args.push('--user', options.userId)
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...FAST_ENV, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s))
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s))
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`daemon did not start within 20 s:\n${out}`))
    }, 20_000)
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
    rpc: (method, params) => rpcCall(socket, method, params),
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

export const status = (d: DaemonProcess) => d.rpc<StatusResult>('status')

/** Daemons for `userIds`, started in parallel, each registered with the server before this resolves. */
export async function startRegisteredDaemons(serverUrl: string, userIds: string[], env?: NodeJS.ProcessEnv): Promise<DaemonProcess[]> {
  const daemons = await Promise.all(userIds.map((userId) => startDaemonProcess({ userId, serverUrl, ...(env ? { env } : {}) })))
  for (const d of daemons) await eventually(async () => (await status(d)).server.registered)
  return daemons
}

/** A discovery server and registered daemons for `userIds`: what most test files start with. */
export async function startNetwork<const T extends readonly string[]>(
  userIds: T,
  options: { ttl?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<{ server: ServerProcess; daemons: { [K in keyof T]: DaemonProcess } }> {
  const server = await startServerProcess({ ttl: options.ttl ?? 5 })
  const daemons = await startRegisteredDaemons(server.url, [...userIds], options.env)
  return { server, daemons: daemons as { [K in keyof T]: DaemonProcess } }
}

/** Stops the daemons, then the server; any of them may be missing (a start that failed). */
export async function stopNetwork(server: ServerProcess | undefined, ...daemons: Array<DaemonProcess | undefined>): Promise<void> {
  await Promise.all(daemons.map((d) => d?.stop()))
  await server?.stop()
}

export class RpcError extends Error {
  constructor(
    readonly rpcCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** One JSON-RPC call on its own connection. */
export function rpcCall<T = unknown>(socketPath: string, method: string, params?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath)
    let buffer = ''
    socket.setEncoding('utf8')
    socket.on('connect', () =>
      socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params !== undefined ? { params } : {}) })}\n`),
    )
    socket.on('data', (chunk: string) => {
      buffer += chunk
      const newline = buffer.indexOf('\n')
      if (newline < 0) return
      const response = JSON.parse(buffer.slice(0, newline))
      socket.destroy()
      if (response.error) reject(new RpcError(response.error.code, response.error.data?.code, response.error.message))
      else resolve(response.result as T)
    })
    socket.on('error', reject)
  })
}

/** Sends each text on one pipelined connection, in order; returns the texts whose send was answered. */
export function pipelinedSends(socketPath: string, to: string, all: string[], onAnswered?: (count: number) => void): Promise<string[]> {
  return new Promise((resolve) => {
    const socket = connect(socketPath)
    const answered: string[] = []
    let buffer = ''
    socket.setEncoding('utf8')
    socket.on('connect', () => {
      socket.write(
        `${all.map((text, i) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'send', params: { to, text, timeout: 0 } })).join('\n')}\n`,
      )
    })
    socket.on('data', (chunk: string) => {
      buffer += chunk
      const lines = buffer.split('\n')
      buffer = lines.pop() ?? ''
      for (const line of lines) {
        const response = JSON.parse(line)
        if (response.result) answered.push(all[response.id] as string)
      }
      onAnswered?.(answered.length)
      if (answered.length === all.length) socket.end()
    })
    socket.on('close', () => resolve(answered))
    socket.on('error', () => undefined)
  })
}

export interface Subscription {
  events: Array<{ cursor: string; id: string; from: string; text: string; at: string }>
  cursor: string
  close(): void
}

/** Subscribes on a long-lived connection; `events` fills as notifications arrive. */
export function subscribe(socketPath: string, since?: string): Promise<Subscription> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath)
    const events: Subscription['events'] = []
    let buffer = ''
    socket.setEncoding('utf8')
    socket.on('connect', () =>
      socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscribe', params: since ? { since } : {} })}\n`),
    )
    socket.on('data', (chunk: string) => {
      buffer += chunk
      const lines = buffer.split('\n')
      buffer = lines.pop() ?? ''
      for (const line of lines) {
        const message = JSON.parse(line)
        if (message.id === 1) {
          if (message.error) reject(new Error(message.error.message))
          else resolve({ events, cursor: message.result.cursor, close: () => socket.destroy() })
        } else if (message.method === 'event') events.push(message.params)
      }
    })
    socket.on('error', reject)
  })
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the built `p2p` binary like a user would. */
export function p2p(
  args: string[],
  options: { home?: string; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, ...(options.home ? ['--home', options.home] : [])], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...FAST_ENV, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`p2p ${args.join(' ')} did not finish within ${options.timeoutMs ?? 30_000} ms\n${stdout}\n${stderr}`))
    }, options.timeoutMs ?? 30_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(options.input ?? '')
  })
}

/** Polls `check` until it returns a truthy value (or throws the last error after `timeoutMs`). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 15_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) throw lastError ?? new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}
