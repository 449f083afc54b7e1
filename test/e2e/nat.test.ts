/**
 * A real NAT (issue 8): network namespaces made by this test, veth pairs, iptables MASQUERADE.
 *
 *   alice 192.0.2.2 ── 192.0.2.1 [router A, NAT] 203.0.113.2 ── 203.0.113.1 [server] 198.51.100.1 ── 198.51.100.2 [router B, NAT] 192.0.2.5 ── 192.0.2.6 bob
 *
 * The server namespace routes between the two "public" links. Each router masquerades its LAN and
 * lets in only what answers a connection from inside, as a home router does. Alice and bob chat
 * through the relay; once router B forwards bob's port (DNAT) to bob, who advertises router B's
 * address, alice's background direct retry succeeds and the link moves to a direct one.
 *
 * Only TEST-NET addresses, only inside namespaces this test made (names carry the pid), deleted
 * afterwards whatever happened. Needs root, `ip` and `iptables` (.ci/run installs iproute2 and
 * iptables); without them the test is skipped, saying why.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callOnce } from '../../src/cli/control-client.js'
import { socketPathFor } from '../../src/protocol/profile.js'
import type { ResultOf } from '../../src/protocol/rpc.js'
import { eventually, FAST_ENV } from '../helpers/daemon.js'
import { reapOnExit } from '../helpers/reaper.js'
import { BIN, REPO_ROOT } from '../helpers/server.js'

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to make network namespaces'
  for (const [tool, flag] of [
    ['ip', '-V'],
    ['iptables', '--version'],
  ] as const) {
    try {
      execFileSync(tool, [flag], { stdio: 'ignore' })
    } catch {
      return `needs ${tool} (apt-get install -y iproute2 iptables)`
    }
  }
  return undefined
}

const skipReason = missing()
const tag = `p2pnat${process.pid}`
const NS = { alice: `${tag}-a`, routerA: `${tag}-ra`, server: `${tag}-s`, routerB: `${tag}-rb`, bob: `${tag}-b` }

const run = (...args: string[]) => execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] })
const inNs = (ns: string, ...args: string[]) => run('ip', 'netns', 'exec', ns, ...args)

function deleteNamespaces(): void {
  for (const ns of Object.values(NS)) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
    } catch {
      // Not made, or already gone.
    }
  }
}

/** A veth pair between two namespaces, each end addressed and up. */
function link(a: string, aIf: string, aAddr: string, b: string, bIf: string, bAddr: string): void {
  run('ip', 'link', 'add', aIf, 'netns', a, 'type', 'veth', 'peer', 'name', bIf, 'netns', b)
  inNs(a, 'ip', 'addr', 'add', aAddr, 'dev', aIf)
  inNs(b, 'ip', 'addr', 'add', bAddr, 'dev', bIf)
  inNs(a, 'ip', 'link', 'set', aIf, 'up')
  inNs(b, 'ip', 'link', 'set', bIf, 'up')
}

/** A home router: forwards, masquerades its LAN, lets in only replies. */
function homeRouter(ns: string, lan: string, wan: string, lanNet: string): void {
  inNs(ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
  inNs(ns, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', lanNet, '-o', wan, '-j', 'MASQUERADE')
  inNs(ns, 'iptables', '-P', 'FORWARD', 'DROP')
  inNs(ns, 'iptables', '-A', 'FORWARD', '-i', lan, '-o', wan, '-j', 'ACCEPT')
  inNs(ns, 'iptables', '-A', 'FORWARD', '-i', wan, '-o', lan, '-m', 'state', '--state', 'ESTABLISHED,RELATED', '-j', 'ACCEPT')
}

function makeNetwork(): void {
  for (const ns of Object.values(NS)) {
    run('ip', 'netns', 'add', ns)
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up')
  }
  link(NS.alice, 'lan0', '192.0.2.2/30', NS.routerA, 'lan0', '192.0.2.1/30')
  link(NS.routerA, 'wan0', '203.0.113.2/30', NS.server, 'wa0', '203.0.113.1/30')
  link(NS.server, 'wb0', '198.51.100.1/30', NS.routerB, 'wan0', '198.51.100.2/30')
  link(NS.bob, 'lan0', '192.0.2.6/30', NS.routerB, 'lan0', '192.0.2.5/30')
  inNs(NS.alice, 'ip', 'route', 'add', 'default', 'via', '192.0.2.1')
  inNs(NS.bob, 'ip', 'route', 'add', 'default', 'via', '192.0.2.5')
  inNs(NS.routerA, 'ip', 'route', 'add', 'default', 'via', '203.0.113.1')
  inNs(NS.routerB, 'ip', 'route', 'add', 'default', 'via', '198.51.100.1')
  inNs(NS.server, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
  homeRouter(NS.routerA, 'lan0', 'wan0', '192.0.2.0/30')
  homeRouter(NS.routerB, 'lan0', 'wan0', '192.0.2.4/30')
}

/** Router B forwards `port` to bob, as a user would set up on a home router. */
function forwardPort(port: number): void {
  const p = String(port)
  inNs(
    NS.routerB,
    'iptables',
    '-t',
    'nat',
    '-A',
    'PREROUTING',
    '-i',
    'wan0',
    '-p',
    'tcp',
    '--dport',
    p,
    '-j',
    'DNAT',
    '--to-destination',
    `192.0.2.6:${p}`,
  )
  inNs(NS.routerB, 'iptables', '-A', 'FORWARD', '-i', 'wan0', '-o', 'lan0', '-p', 'tcp', '-d', '192.0.2.6', '--dport', p, '-j', 'ACCEPT')
}

interface Proc {
  child: ChildProcess
  output(): string
  waitFor(pattern: RegExp): Promise<RegExpExecArray>
}

function spawnIn(ns: string, args: string[]): Proc {
  const env = { ...process.env, ...FAST_ENV, P2P_DIRECT_RETRY_BASE_MS: '300', P2P_DIRECT_RETRY_MAX_MS: '1000' }
  const child = reapOnExit(spawn('ip', ['netns', 'exec', ns, process.execPath, BIN, ...args], { cwd: REPO_ROOT, env }))
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s))
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s))
  return {
    child,
    output: () => out,
    waitFor: (pattern) =>
      eventually(() => pattern.exec(out), { timeout: 20_000 }).catch(() => {
        throw new Error(`no ${pattern} within 20 s:\n${out}`)
      }),
  }
}

interface NatDaemon extends Proc {
  port: number
  rpc<M extends 'status' | 'send' | 'peers' | 'history'>(method: M, params?: unknown): Promise<ResultOf[M]>
}

async function daemonIn(ns: string, userId: string, serverUrl: string, args: string[] = []): Promise<NatDaemon> {
  const home = mkdtempSync(join(tmpdir(), `p2p-nat-${userId}-`))
  const proc = spawnIn(ns, ['daemon', 'run', '--home', home, '--user', userId, '--server', serverUrl, '--port', '0', ...args])
  const port = Number((await proc.waitFor(/ on port (\d+),/))[1])
  const socket = socketPathFor(home, { ...process.env, ...FAST_ENV })
  return { ...proc, port, rpc: (method, params) => callOnce(socket, method, params as never) as never }
}

const stop = (p: Proc | undefined) =>
  p && p.child.exitCode === null && p.child.signalCode === null
    ? new Promise<void>((resolve) => {
        p.child.once('exit', () => resolve())
        p.child.kill('SIGTERM')
      })
    : Promise.resolve()

describe.skipIf(skipReason !== undefined)(`behind real NATs (network namespaces)${skipReason ? `: skipped, ${skipReason}` : ''}`, () => {
  let server: Proc
  let alice: NatDaemon
  let bob: NatDaemon
  const onExit = () => deleteNamespaces()

  beforeAll(async () => {
    process.once('exit', onExit)
    deleteNamespaces()
    makeNetwork()
    server = spawnIn(NS.server, ['server', '--host', '0.0.0.0', '--port', '0', '--memory', '--ttl', '5'])
    const port = Number((await server.waitFor(/listening on http:\/\/[^:]+:(\d+)/))[1])
    // Bob advertises router B's public address; nothing forwards it to him yet.
    ;[alice, bob] = await Promise.all([
      daemonIn(NS.alice, 'alice', `http://203.0.113.1:${port}`),
      daemonIn(NS.bob, 'bob', `http://198.51.100.1:${port}`, ['--advertise', '198.51.100.2']),
    ])
    await eventually(async () => {
      const [a, b] = await Promise.all([alice.rpc('status'), bob.rpc('status')])
      return a.server.registered && b.server.registered && a.relay?.connected && b.relay?.connected
    })
  }, 60_000)

  afterAll(async () => {
    await Promise.all([stop(alice), stop(bob)])
    await stop(server)
    deleteNamespaces()
    process.off('exit', onExit)
  })

  it('the server sees each daemon as its router; the routers refuse what nobody inside asked for', async () => {
    const peers = await alice.rpc('peers')
    // The server recorded bob's advertised address and alice's router's.
    expect((await bob.rpc('peers')).find((p) => p.userId === 'alice')?.host).toBe('203.0.113.2')
    expect(peers.find((p) => p.userId === 'bob')?.host).toBe('198.51.100.2')
    expect(() => inNs(NS.server, 'bash', '-c', `exec 3<>/dev/tcp/198.51.100.2/${bob.port}`)).toThrow()
  })

  it('alice and bob chat through the relay, both ways', async () => {
    expect((await alice.rpc('send', { to: 'bob', text: 'hi bob, through two NATs', timeout: 20 })).status).toBe('delivered')
    expect((await bob.rpc('send', { to: 'alice', text: 'hi alice, same way back', timeout: 20 })).status).toBe('delivered')
    expect((await alice.rpc('peers')).find((p) => p.userId === 'bob')).toMatchObject({ connected: true, link: 'relayed' })
    const history = (await bob.rpc('history', { peer: 'alice' })).map((e) => e.text)
    expect(history).toEqual(['hi bob, through two NATs', 'hi alice, same way back'])
  }, 60_000)

  it('once bob’s router forwards his port, the link moves to a direct one by itself', async () => {
    forwardPort(bob.port)
    await eventually(async () => (await alice.rpc('peers')).find((p) => p.userId === 'bob')?.link === 'direct', { timeout: 30_000 })
    await eventually(async () => (await bob.rpc('peers')).find((p) => p.userId === 'alice')?.link === 'direct', { timeout: 30_000 })
    expect((await alice.rpc('send', { to: 'bob', text: 'now direct', timeout: 20 })).status).toBe('delivered')
    const texts = (await bob.rpc('history', { peer: 'alice' })).map((e) => e.text)
    expect(texts.filter((t) => t === 'now direct')).toHaveLength(1)
  }, 60_000)
})
