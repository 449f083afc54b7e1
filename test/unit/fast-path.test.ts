import { readdirSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseFastCommand } from '../../src/cli/fast-path.js'

describe('parseFastCommand', () => {
  it('takes msg with a peer and text, and daemon status, with the flags they share with oclif', () => {
    expect(parseFastCommand(['msg', 'bob', 'hi', 'there'])).toEqual({ command: 'msg', words: ['bob', 'hi', 'there'], json: false })
    expect(parseFastCommand(['msg', 'bob', 'hi', '--timeout', '3', '--json', '--home', '/h'])).toEqual({
      command: 'msg',
      words: ['bob', 'hi'],
      json: true,
      home: '/h',
      timeout: 3,
    })
    expect(parseFastCommand(['msg', '--home=/h', 'bob', 'hi', '--timeout=0'])).toMatchObject({
      home: '/h',
      timeout: 0,
      words: ['bob', 'hi'],
    })
    expect(parseFastCommand(['daemon', 'status', '--json'])).toEqual({ command: 'status', words: [], json: true })
  })

  it('leaves everything else to oclif', () => {
    for (const argv of [
      [],
      ['peers'],
      ['daemon', 'start'],
      ['daemon', 'status', 'extra'],
      ['daemon', 'status', '--help'],
      ['msg', 'bob'], // stdin mode
      ['msg', 'bob', 'hi', '--bogus'],
      ['msg', 'bob', 'hi', '--quiet'],
      ['msg', 'bob', '--', '-1 degrees'],
      ['msg', 'bob', 'hi', '--timeout', 'soon'],
      ['msg', 'bob', 'hi', '--timeout'],
      ['msg', 'bob', 'hi', '--home'],
      ['msg', 'bob', 'hi', '--json=yes'],
      ['daemon', 'status', '--timeout', '3'],
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

  it('no command file loads zod, xstate, SQLite or pino when it is imported', () => {
    const commands = readdirSync(resolve(SRC, 'commands'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
    expect(commands.length).toBeGreaterThan(10)
    for (const command of commands) {
      const heavy = [...packagesLoadedBy(`commands/${command}`)].filter((p) => HEAVY.includes(p))
      expect(heavy, command).toEqual([])
    }
  })
})
