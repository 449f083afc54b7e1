import { readdirSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseFastCommand } from '../../src/cli/fast-path.js'

describe('parseFastCommand', () => {
  it('takes msg with a peer and text, and daemon status, with the flags they share with oclif', () => {
    expect(parseFastCommand(['msg', 'bob', 'hi', 'there'])).toEqual({
      command: 'msg',
      args: ['bob', 'hi', 'there'],
      flags: {},
      json: false,
    })
    expect(parseFastCommand(['msg', 'bob', 'hi', '--timeout', '3', '--json', '--home', '/h'])).toEqual({
      command: 'msg',
      args: ['bob', 'hi'],
      flags: { timeout: 3 },
      json: true,
      home: '/h',
    })
    expect(parseFastCommand(['msg', '--home=/h', 'bob', 'hi', '--timeout=0'])).toMatchObject({
      home: '/h',
      flags: { timeout: 0 },
      args: ['bob', 'hi'],
    })
    // No text: stdin lines, pipelined (`seq 100000 | p2p msg bob`).
    expect(parseFastCommand(['msg', 'bob', '--quiet', '--json'])).toEqual({
      command: 'msg',
      args: ['bob'],
      flags: { quiet: true },
      json: true,
    })
    expect(parseFastCommand(['daemon', 'status', '--json'])).toEqual({ command: 'daemon status', args: [], flags: {}, json: true })
    expect(parseFastCommand(['daemon', 'status', '--verbose'])).toMatchObject({ flags: { verbose: true } })
  })

  it('takes the other one-shot commands with exactly the arguments and flags their oclif commands declare', () => {
    expect(parseFastCommand(['peers', '--json'])).toEqual({ command: 'peers', args: [], flags: {}, json: true })
    expect(parseFastCommand(['discover'])).toMatchObject({ command: 'discover' })
    expect(parseFastCommand(['history'])).toEqual({ command: 'history', args: [], flags: {}, json: false })
    expect(parseFastCommand(['history', 'bob', '--limit', '200', '--include-muted'])).toEqual({
      command: 'history',
      args: ['bob'],
      flags: { limit: 200, 'include-muted': true },
      json: false,
    })
    for (const command of ['block', 'unblock', 'mute', 'unmute', 'trust'] as const) {
      expect(parseFastCommand([command, 'bob']), command).toEqual({ command, args: ['bob'], flags: {}, json: false })
    }
    expect(parseFastCommand(['mute', 'bob', '--for', '1h30m'])).toMatchObject({ flags: { for: 5400 } })
    expect(parseFastCommand(['trust', 'bob', '--fingerprint', 'c69f-634c'])).toMatchObject({ flags: { fingerprint: 'c69f-634c' } })
    expect(parseFastCommand(['daemon', 'stop', '--force'])).toEqual({
      command: 'daemon stop',
      args: [],
      flags: { force: true },
      json: false,
    })
  })

  it('leaves everything else to oclif', () => {
    for (const argv of [
      [],
      ['daemon', 'start'],
      ['daemon', 'run'],
      ['daemon', 'status', 'extra'],
      ['daemon', 'status', '--help'],
      ['daemon', 'status', '-v'],
      ['msg', 'bob', 'hi', '--bogus'],
      ['msg', 'bob', '--quiet=yes'],
      ['msg'],
      ['msg', 'bob', 'hi', '-q'],
      ['msg', 'bob', '--', '-1 degrees'],
      ['msg', 'bob', 'hi', '--timeout', 'soon'],
      ['msg', 'bob', 'hi', '--timeout', '3601'],
      ['msg', 'bob', 'hi', '--timeout'],
      ['msg', 'bob', 'hi', '--timeout', '3', '--timeout', '4'],
      ['msg', 'bob', 'hi', '--home'],
      ['msg', 'bob', 'hi', '--home', '--json'],
      ['msg', 'bob', 'hi', '--json=yes'],
      ['daemon', 'status', '--timeout', '3'],
      ['peers', 'bob'],
      ['peers', '-h'],
      ['pers'],
      ['history', 'bob', 'carol'],
      ['history', '--limit', '0'],
      ['history', '--limit', '100001'],
      ['history', '--limit=-1'],
      ['block'],
      ['block', ''],
      ['block', 'bob', 'carol'],
      ['mute', 'bob', '--for', 'a while'],
      ['unmute', 'bob', '--for', '1h'],
      ['trust', 'bob', '--fingerprint'],
      ['watch'],
      ['chat'],
      ['server'],
      ['help', 'peers'],
    ]) {
      expect(parseFastCommand(argv), argv.join(' ')).toBeUndefined()
    }
  })
})

/** The packages `entry` loads with it: static value imports, followed through src (not `import type`, not `await import()`). */
function packagesLoadedBy(entry: string): Set<string> {
  const packages = new Set<string>()
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const source = readFileSync(file, 'utf8')
    for (const [, specifier] of source.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
      if (specifier?.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')))
      else if (specifier && !specifier.startsWith('node:')) packages.add(specifier)
    }
  }
  visit(resolve(SRC, entry))
  return packages
}

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src')
const HEAVY = ['zod', 'xstate', 'better-sqlite3', 'pino']

describe('start-up cost', () => {
  it('the fast path loads no package at all: not oclif, not zod', () => {
    expect([...packagesLoadedBy('cli/fast-path.ts')]).toEqual([])
  })

  it('daemon run without oclif loads no package before the daemon itself', () => {
    expect([...packagesLoadedBy('cli/daemon-run-path.ts')]).toEqual([])
  })

  it('no command file loads zod, xstate, SQLite or pino when it is imported', () => {
    const commands = readdirSync(resolve(SRC, 'commands'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
    expect(commands.length).toBeGreaterThan(10)
    for (const command of commands) {
      const heavy = [...packagesLoadedBy(`commands/${command}`)].filter((p) => HEAVY.includes(p))
      expect(heavy, command).toEqual([])
    }
  })
})
