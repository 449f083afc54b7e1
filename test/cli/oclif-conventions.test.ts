/**
 * The oclif conventions a user expects of any CLI (help, version, -h, autocomplete), `p2p server`
 * taking --json and --home like every other command, and no oclif "›   Error:" dump ever: whatever
 * oclif itself refuses is `p2p: message` (or a JSON error document) with the documented exit code.
 * The built bin, spawned.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { type CliResult, p2p, tempHome } from '../helpers/daemon.js'
import { reapOnExit } from '../helpers/reaper.js'
import { BIN, REPO_ROOT, startServerProcess } from '../helpers/server.js'

const VERSION: string = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version

/** Nothing of the real home: caches (autocomplete) and data in temp dirs. */
function isolatedEnv(): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-oclif-'))
  return { XDG_CACHE_HOME: join(dir, 'cache'), XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') }
}

const run = (args: string[]) => p2p(args, { env: isolatedEnv() })

function expectUsageError(result: CliResult, message: RegExp): void {
  expect(result.code).toBe(2)
  expect(result.stdout).toBe('')
  expect(result.stderr).toMatch(/^p2p: /)
  expect(result.stderr).toMatch(message)
  expect(result.stderr.trim().split('\n')).toHaveLength(1)
  expect(result.stderr).not.toContain('›')
}

describe('oclif conventions', () => {
  it('p2p help and p2p -h list the commands; p2p help CMD and CMD -h are that command --help', async () => {
    const help = await run(['help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^COMMANDS$/m)
    expect(help.stdout).toMatch(/^\s+msg\s/m)
    expect(await run(['-h'])).toEqual(help)

    const msgHelp = await run(['msg', '--help'])
    expect(msgHelp.code).toBe(0)
    expect(msgHelp.stdout).toMatch(/^USAGE\n\s+\$ p2p msg PEER/m)
    expect(await run(['msg', '-h'])).toEqual(msgHelp)
    expect(await run(['help', 'msg'])).toEqual(msgHelp)
    expect((await run(['daemon', 'start', '-h'])).stdout).toMatch(/\$ p2p daemon start/)
  })

  it('p2p version and p2p --version print the version; version --json is a document', async () => {
    const version = await run(['version'])
    expect(version).toMatchObject({ code: 0, stderr: '' })
    expect(version.stdout).toMatch(new RegExp(`^p2p/${VERSION.replaceAll('.', '\\.')} `))
    expect(await run(['--version'])).toEqual(version)
    const json = await run(['version', '--json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ cliVersion: `p2p/${VERSION}` })
  })

  it('p2p autocomplete explains the set-up and prints a completion script', async () => {
    const env = isolatedEnv()
    const setup = await p2p(['autocomplete', 'bash'], { env })
    expect(setup.code).toBe(0)
    expect(setup.stdout).toContain('p2p autocomplete script bash')
    const script = await p2p(['autocomplete', 'script', 'bash'], { env })
    expect(script.code).toBe(0)
    expect(script.stdout).toContain('P2P_AC_BASH_SETUP_PATH')
  })

  it('errors oclif raises itself, in plugin commands too, are one `p2p: message` line with exit 2', async () => {
    expectUsageError(await run(['version', '--bogus']), /Nonexistent flag: --bogus/)
    expectUsageError(await run(['help', 'nosuch']), /nosuch/)
    expectUsageError(await run(['autocomplete', 'nosh']), /nosh/)
    expectUsageError(await run(['server', '--port', 'abc']), /--port .*abc/)
    expectUsageError(await run(['peers', '--home']), /--home expects a value/)
    expectUsageError(await run(['server', '--db', 'x.db', '--memory']), /--memory|--db/)
  })

  it('with --json, such errors are one {"error":{code,message}} document on stdout', async () => {
    for (const args of [
      ['version', '--json', '--bogus'],
      ['server', '--json', '--bogus'],
      ['server', '--json', '--reservation', 'soon'],
    ]) {
      const result = await run(args)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr, args.join(' ')).toBe('')
      expect(JSON.parse(result.stdout), args.join(' ')).toEqual({ error: { code: 'usage', message: expect.any(String) } })
    }
  })
})

describe('p2p server takes --json and --home like every other command', () => {
  const children: Array<ReturnType<typeof spawn>> = []
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL')
  })

  it('--json: the ready line is {"listening":URL}, and it serves there', async () => {
    const child = reapOnExit(
      spawn(process.execPath, [BIN, 'server', '--json', '--host', '127.0.0.1', '--port', '0', '--memory'], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...isolatedEnv() },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    )
    children.push(child)
    const line = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        out += s
        if (out.includes('\n')) resolve(out)
      })
      child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)))
    })
    const ready = JSON.parse(line) as { listening: string }
    expect(ready).toEqual({ listening: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) })
    expect((await fetch(`${ready.listening}/healthz`)).status).toBe(200)
  })

  it('--json: a failure to start is a JSON error document, exit 1', async () => {
    const server = await startServerProcess()
    try {
      const taken = await run(['server', '--json', '--host', '127.0.0.1', '--port', String(server.port), '--memory'])
      expect(taken.code).toBe(1)
      expect(JSON.parse(taken.stdout)).toEqual({ error: { code: 'internal', message: expect.stringMatching(/EADDRINUSE/) } })
    } finally {
      await server.stop()
    }
  })

  it('--home: the default database lives there when --db is not given', async () => {
    const home = tempHome('p2p-server-home-')
    const server = await startServerProcess({ memory: false, args: ['--home', home] })
    try {
      expect(existsSync(join(home, 'registry.db'))).toBe(true)
      expect(existsSync(join(server.dataHome, 'p2p-server'))).toBe(false)
    } finally {
      expect(await server.stop()).toBe(0)
    }
  })
})

describe('start-up cost of the plugins', () => {
  /** The packages under node_modules whose modules `args` imports, recorded by a module resolve hook. */
  async function packagesImported(args: string[]): Promise<string[]> {
    const dir = mkdtempSync(join(tmpdir(), 'p2p-loaded-'))
    const log = join(dir, 'loaded.txt')
    writeFileSync(log, '')
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs'
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  appendFileSync(${JSON.stringify(log)}, result.url + '\\n')
  return result
}
`,
    )
    writeFileSync(
      join(dir, 'register.mjs'),
      // bin/run.js is CommonJS and require()s the fast path and oclif: the resolve hook does not see
      // those, so every CommonJS module compiled is recorded too (oclif resolves each plugin's
      // entry to find its root without loading it: resolving is not loading).
      `import Module, { register } from 'node:module'
import { appendFileSync } from 'node:fs'
register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)})
const compile = Module.prototype._compile
Module.prototype._compile = function (...args) {
  appendFileSync(${JSON.stringify(log)}, this.filename + '\\n')
  return compile.apply(this, args)
}
`,
    )
    const result = await p2p(args, { env: { ...isolatedEnv(), NODE_OPTIONS: `--import=${pathToFileURL(join(dir, 'register.mjs')).href}` } })
    expect(result.stderr).not.toMatch(/ERR_|Error \[/)
    const packages = new Set<string>()
    for (const url of readFileSync(log, 'utf8').split('\n')) {
      const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
      if (m) packages.add(m[1] as string)
    }
    return [...packages].sort()
  }

  it('the fast path (daemon status, peers) imports no package: no oclif, no plugin', async () => {
    expect(await packagesImported(['daemon', 'status', '--home', tempHome()])).toEqual([])
    expect(await packagesImported(['peers', '--home', tempHome()])).toEqual([])
  })

  it('an ordinary oclif command imports none of the plugins; `p2p version` does', async () => {
    // `watch` is oclif's (it streams), not the fast path's.
    const watch = await packagesImported(['watch', '--home', tempHome()])
    expect(watch).toContain('@oclif/core')
    expect(watch.filter((p) => p.startsWith('@oclif/plugin-'))).toEqual([])
    expect(await packagesImported(['version'])).toContain('@oclif/plugin-version')
  })
})
