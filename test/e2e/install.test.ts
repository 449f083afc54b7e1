/**
 * What a user does to get `p2p` on the PATH, done for real: pack a copy of the sources (its
 * `prepack` builds dist/), install the tarball globally into a temp prefix, and let the installed
 * command run a discovery server and two users who exchange a message.
 *
 * The install compiles better-sqlite3 when no prebuilt binary is reachable, so this is the slowest
 * test of the suite (about a minute and a half here); it runs beside the others.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FAST_ENV } from '../helpers/daemon.js'
import { reapOnExit } from '../helpers/reaper.js'
import { REPO_ROOT } from '../helpers/server.js'

const run = promisify(execFile)
const INSTALL_TIMEOUT_MS = 600_000

/** The files a clean clone has that the build needs; node_modules is linked, not copied. */
const SOURCES = ['bin', 'src', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json', 'README.md']

describe('installing the packed tarball with npm install -g', () => {
  const work = mkdtempSync(join(tmpdir(), 'p2p-install-'))
  const prefix = join(work, 'prefix')
  const env = { ...process.env, ...FAST_ENV, XDG_DATA_HOME: join(work, 'data'), PATH: `${join(prefix, 'bin')}:${process.env.PATH}` }
  const children: ChildProcess[] = []
  let serverUrl = ''

  const p2p = (args: string[], home?: string) =>
    run('p2p', [...args, ...(home ? ['--home', home] : [])], { env, timeout: 60_000, encoding: 'utf8' })

  beforeAll(async () => {
    const checkout = join(work, 'checkout')
    for (const name of SOURCES) cpSync(join(REPO_ROOT, name), join(checkout, name), { recursive: true })
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir')
    // No dist/ in the copy: the tarball is complete only if packing builds it.
    expect(existsSync(join(checkout, 'dist'))).toBe(false)
    await run('npm', ['pack', '--pack-destination', work], { cwd: checkout, env, timeout: INSTALL_TIMEOUT_MS })
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))
    expect(tarball).toBeDefined()
    await run(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--allow-scripts=better-sqlite3',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(work, tarball!),
      ],
      { cwd: work, env, timeout: INSTALL_TIMEOUT_MS },
    )
  }, INSTALL_TIMEOUT_MS)

  afterAll(async () => {
    for (const home of ['alice', 'bob']) await p2p(['daemon', 'stop'], join(work, home)).catch(() => undefined)
    for (const child of children) child.kill('SIGTERM')
    rmSync(work, { recursive: true, force: true })
  })

  it('puts p2p on the PATH, from the prefix', async () => {
    const { stdout } = await run('sh', ['-c', 'command -v p2p'], { env, encoding: 'utf8' })
    expect(stdout.trim()).toBe(join(prefix, 'bin', 'p2p'))
    expect((await p2p(['--version'])).stdout).toMatch(/^p2p\/\d+\.\d+\.\d+/)
  })

  it('runs a discovery server and two users who exchange a message', async () => {
    const server = reapOnExit(
      spawn('p2p', ['server', '--host', '127.0.0.1', '--port', '0', '--memory'], { env, stdio: ['ignore', 'pipe', 'pipe'] }),
    )
    children.push(server)
    serverUrl = await new Promise<string>((resolve, reject) => {
      let out = ''
      server.stdout!.setEncoding('utf8').on('data', (s: string) => {
        out += s
        const match = /listening on (http:\/\/\S+)/.exec(out)
        if (match) resolve(match[1]!)
      })
      server.once('exit', (code) => reject(new Error(`the installed server exited (${code}) before listening`)))
    })
    const alice = join(work, 'alice')
    const bob = join(work, 'bob')
    for (const [home, user] of [
      [alice, 'alice'],
      [bob, 'bob'],
    ] as const) {
      const { stdout } = await p2p(['daemon', 'start', '--user', user, '--port', '0', '--server', serverUrl], home)
      expect(stdout).toMatch(new RegExp(`daemon started for ${user}`))
    }
    expect((await p2p(['msg', 'bob', 'hello from an installed p2p', '--timeout', '30'], alice)).stdout.trim()).toBe('delivered')
    expect((await p2p(['history', 'alice'], bob)).stdout).toContain('alice -> bob: hello from an installed p2p')
  })
})
