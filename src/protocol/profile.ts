/**
 * Where a profile keeps its files. The CLI and the daemon both import this one module, so the
 * client always looks for the socket exactly where the daemon put it.
 */
import { createRequire } from 'node:module'
import { homedir, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

/** sun_path is 108 bytes on Linux (104 on macOS), including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 103

export interface ProfilePaths {
  home: string
  identity: string
  database: string
  socket: string
  pid: string
  log: string
  /** stdout and stderr of a daemon started detached: where a failed start explains itself. */
  daemonOut: string
  /** Lines typed in `p2p chat`, for its history. */
  chatHistory: string
}

export function resolveHome(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag)
  if (env.P2P_HOME) return resolve(env.P2P_HOME)
  if (env.XDG_DATA_HOME) return join(resolve(env.XDG_DATA_HOME), 'p2p')
  return join(homedir(), '.local', 'share', 'p2p')
}

/**
 * The control socket lives in the profile. When that path is too long for a Unix socket (deep
 * temp dirs do this), it falls back to a private per-user directory ($XDG_RUNTIME_DIR, else the
 * system temp dir), named by a hash of the profile path: deterministic, so the CLI finds it
 * without asking anyone. The daemon refuses a fallback directory that others could write to.
 */
export function socketPathFor(home: string, env: NodeJS.ProcessEnv = process.env): string {
  const inProfile = join(home, 'p2p.sock')
  if (Buffer.byteLength(inProfile) <= MAX_SOCKET_PATH_BYTES) return inProfile
  const digest = sha256Hex(home).slice(0, 24)
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0
  return join(env.XDG_RUNTIME_DIR || tmpdir(), `p2p-${uid}`, `${digest}.sock`)
}

export function profilePaths(home: string): ProfilePaths {
  return {
    home,
    identity: join(home, 'identity.key'),
    database: join(home, 'p2p.db'),
    socket: socketPathFor(home),
    pid: join(home, 'daemon.pid'),
    log: join(home, 'daemon.log'),
    daemonOut: join(home, 'daemon.out'),
    chatHistory: join(home, 'chat_history'),
  }
}

/**
 * Loaded only here, in the rare fallback: node:crypto adds about a tenth to the start-up of a
 * one-shot command (BENCHMARKS.md, B3). createRequire works in the ES modules of dist/ and in the
 * CommonJS fast-path bundle alike; any absolute base path resolves a builtin.
 */
function sha256Hex(text: string): string {
  const { createHash } = createRequire('/')('node:crypto') as typeof import('node:crypto')
  return createHash('sha256').update(text).digest('hex')
}
