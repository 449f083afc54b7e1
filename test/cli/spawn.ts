/**
 * The built `p2p` binary as a long-running child (watch, chat), and one-shot runs with raw bytes
 * on stdin (the shared `p2p()` helper only takes strings, which cannot hold invalid UTF-8).
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process'
import { FAST_ENV } from '../helpers/daemon.js'
import { BIN, REPO_ROOT } from '../helpers/server.js'

export interface LiveCli {
  child: ChildProcessWithoutNullStreams
  stdout(): string
  stderr(): string
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>
}

export function spawnCli(args: string[], options: { home?: string; env?: NodeJS.ProcessEnv } = {}): LiveCli {
  const child = spawn(process.execPath, [BIN, ...args, ...(options.home ? ['--home', options.home] : [])], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...FAST_ENV, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s))
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exited }
}

/** A one-shot run with `input` as raw bytes on stdin. */
export async function runWithBytes(args: string[], input: Buffer, home: string) {
  const cli = spawnCli(args, { home })
  cli.child.stdin.end(input)
  const code = await cli.exited
  return { code, stdout: cli.stdout(), stderr: cli.stderr() }
}

export function hasTmux(): boolean {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0
}

export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}
