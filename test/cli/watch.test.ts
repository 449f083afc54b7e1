/**
 * `p2p watch`: messages as they arrive, resuming from a cursor, harmless remote text, and a
 * clean end (SIGINT: 0; the daemon dying: non-zero, no hang).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { type DaemonProcess, p2p, startRegisteredDaemons, subscribe } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'
import { jsonLines, type LiveCli, spawnCli } from './spawn.js'

/** The cursor after everything bob has received so far. */
async function cursorNow(d: DaemonProcess): Promise<string> {
  const sub = await subscribe(d.socket)
  sub.close()
  return sub.cursor
}

describe('p2p watch', () => {
  const net = useNetwork(['alice', 'bob'])
  const live: LiveCli[] = []
  const extraDaemons: DaemonProcess[] = []

  afterAll(async () => {
    for (const cli of live) cli.child.kill('SIGKILL')
    await Promise.all(extraDaemons.map((d) => d.kill()))
  })

  const watch = (args: string[], home: string) => {
    const cli = spawnCli(['watch', ...args], { home })
    live.push(cli)
    return cli
  }

  it('--json writes each message as it arrives, and resumes from --since', async () => {
    const start = await cursorNow(net.bob)
    const cli = watch(['--json', '--since', start], net.bob.home)
    await net.alice.rpc('send', { to: 'bob', text: 'first' })
    const [first] = await eventually(() => {
      const lines = jsonLines(cli.stdout())
      return lines.length === 1 ? lines : undefined
    })
    expect(Object.keys(first ?? {}).sort()).toEqual(['at', 'cursor', 'from', 'id', 'text'])
    expect(first).toMatchObject({ from: 'alice', text: 'first', cursor: expect.stringMatching(/^\d+$/) })

    // Muted peers are not shown; their messages are still stored.
    await p2p(['mute', 'alice'], { home: net.bob.home })
    await net.alice.rpc('send', { to: 'bob', text: 'while muted' })
    await p2p(['unmute', 'alice'], { home: net.bob.home })
    await net.alice.rpc('send', { to: 'bob', text: 'second' })
    const lines = await eventually(() => {
      const l = jsonLines(cli.stdout())
      return l.length >= 2 ? l : undefined
    })
    expect(lines.map((l) => l.text)).toEqual(['first', 'second'])

    cli.child.kill('SIGINT')
    expect(await cli.exited).toBe(0)
    expect(cli.stderr()).toBe('')

    const resumed = watch(['--json', '--since', String(first?.cursor)], net.bob.home)
    const replay = await eventually(() => {
      const l = jsonLines(resumed.stdout())
      return l.length >= 1 ? l : undefined
    })
    expect(replay[0]).toEqual(lines[1])
    resumed.child.kill('SIGINT')
    expect(await resumed.exited).toBe(0)
  })

  it('human output shows remote escape sequences harmlessly', async () => {
    const start = await cursorNow(net.bob)
    const cli = watch(['--since', start], net.bob.home)
    await net.alice.rpc('send', { to: 'bob', text: 'look \x1b[31mred\x1b[0m \x1b]2;title\x07 end' })
    const out = await eventually(() => (cli.stdout().includes(' end') ? cli.stdout() : undefined))
    expect(out).toMatch(/^\[\d\d:\d\d\] alice: look \^\[\[31mred\^\[\[0m \^\[\]2;title\^G end\n$/)
    expect(out).not.toContain('\x1b')
    cli.child.kill('SIGINT')
    expect(await cli.exited).toBe(0)
  })

  it('rejects a malformed --since with exit 2', async () => {
    const result = await p2p(['watch', '--since', 'yesterday', '--json'], { home: net.bob.home })
    expect(result.code).toBe(2)
    expect(JSON.parse(result.stdout).error.code).toBe('usage')
  })

  it('exits non-zero with a message, without hanging, when the daemon dies', async () => {
    const [victim] = (await startRegisteredDaemons(net.server.url, ['victim'])) as [DaemonProcess]
    extraDaemons.push(victim)
    // --since: a message sent before watch has subscribed is replayed, not lost to the race.
    const cli = watch(['--json', '--since', await cursorNow(victim)], victim.home)
    await net.alice.rpc('send', { to: 'victim', text: 'are you there' })
    await eventually(() => cli.stdout().includes('are you there'))
    await victim.kill()
    const code = await Promise.race([cli.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))])
    expect(code).not.toBe('hung')
    expect(code).not.toBe(0)
    expect(cli.stderr()).toBe('') // --json: the error is the last JSON line on stdout
    expect(jsonLines(cli.stdout()).at(-1)).toEqual({
      error: { code: 'daemon_unreachable', message: expect.stringContaining('daemon stopped') },
    })
  })
})
