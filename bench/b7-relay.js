/**
 * B7: the relay (issue 8). In one run: acked msg/s and idle latency of `send` between two daemons
 * linked directly, and between two daemons with `--listen off` whose link is spliced through the
 * relay of `p2p server`; the same relayed pair with each daemon on its own instance of two on one
 * Redis (`--relay-url`: the circuit meets on the dialed daemon's instance; issue 12, point 3),
 * next to the one-instance figure; then the resident memory of a server holding N idle,
 * authenticated relay control connections (one process opens them all, as N daemons would).
 */
import { spawnSync } from 'node:child_process'
import { startRedis } from './b4-wrk.js'
import { BIN, DIST, FAST_ENV, percentiles, rpcOnce, rssMb, spawnUntil, standalone, tempDir, until } from './lib.js'
import { clientsFor, drive, sendRequest, startPair } from './pair.js'

const RELAY_LIMITS = ['--relay-rate', '0', '--relay-per-address', '20000', '--relay-max', '20000', '--rate-limit', '0']

function relayServer(storage) {
  return spawnUntil([BIN, 'server', '--host', '127.0.0.1', '--port', '0', ...storage, '--ttl', '300', ...RELAY_LIMITS], {
    pattern: /listening on (http:\/\/\S+)/,
    env: { XDG_DATA_HOME: tempDir('p2p-bench-server-') },
  })
}

/** Alice and bob linked through the relay: of one server, or (`redisUrl`) alice on instance A and bob on B. */
export async function relayedPair(redisUrl) {
  const servers = redisUrl
    ? await Promise.all([0, 1].map(() => relayServer(['--redis', redisUrl, '--relay-url', 'http://127.0.0.1:0'])))
    : [await relayServer(['--memory'])]
  const urls = servers.map((s) => s.match[1])
  const daemon = async (userId, url) => {
    const args = [BIN, 'daemon', 'run', '--home', tempDir('p2p-bench-home-'), '--server', url, '--user', userId, '--listen', 'off']
    const started = await spawnUntil(args, { pattern: / on port (\d+), control socket (\S+)\n/, env: { ...FAST_ENV, P2P_PEER_RATE: '0' } })
    const socket = started.match[2]
    const rpc = (method, params) => rpcOnce(socket, method, params)
    await until(async () => {
      const s = await rpc('status')
      return s.server.registered && s.relay?.connected
    }, 20_000)
    return { socket, rpc, pid: started.child.pid }
  }
  const [alice, bob] = await Promise.all([daemon('alice', urls[0]), daemon('bob', urls.at(-1))])
  const first = await alice.rpc('send', { to: 'bob', text: 'hello', timeout: 20 })
  if (first.status !== 'delivered') throw new Error(`first relayed message was ${first.status}`)
  const peer = (await alice.rpc('peers')).find((p) => p.userId === 'bob')
  if (peer?.link !== 'relayed') throw new Error(`expected a relayed link, got ${peer?.link}`)
  return { alice, bob, serverPid: servers.at(-1).child.pid, stop: () => Promise.all(servers.map((s) => s.stop())) }
}

/** The relayed pair across two instances on one Redis, when redis-server is installed. */
async function crossInstance({ durationMs, n }) {
  if (spawnSync('redis-server', ['--version']).status !== 0) return undefined
  const redis = await startRedis(tempDir('p2p-bench-redis-'))
  const pair = await relayedPair(redis.url)
  const result = await measure(pair.alice.socket, { durationMs, n })
  await pair.stop()
  process.kill(redis.pid, 'SIGTERM')
  return result
}

async function probe(client, n) {
  const times = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const response = await sendRequest(client, i)
    if (response.result?.status !== 'delivered') throw new Error(`probe ${i}: ${JSON.stringify(response)}`)
    times.push(performance.now() - t0)
  }
  return percentiles(times)
}

export async function measure(socket, { durationMs, n }) {
  const clients = await clientsFor(socket, 4)
  const throughput = await drive(clients, { durationMs, window: 256, request: sendRequest })
  for (const c of clients) c.close()
  const [probeClient] = await clientsFor(socket, 1)
  await probe(probeClient, 100)
  const latency = await probe(probeClient, n)
  probeClient.close()
  return { perSecond: throughput.perSecond, latency }
}

/** A registration, tried again when a kept-alive HTTP connection was closed under it. */
async function register(url, body) {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`${url}/v1/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      if (res.status !== 200) throw new Error(`register ${body.userId}: ${res.status}`)
      return
    } catch (error) {
      if (attempt >= 3) throw error
    }
  }
}

/** N authenticated control connections held open by this process; the server's RSS before and after. */
export async function idleConnections(n) {
  const [{ RelayControl }, { signRegister }, { generateIdentity }] = await Promise.all([
    import(`${DIST}/daemon/relay-client.js`),
    import(`${DIST}/protocol/discovery.js`),
    import(`${DIST}/protocol/identity.js`),
  ])
  // Opening 10,000 takes minutes on a busy machine: the first must not reach the idle timeout meanwhile.
  const relay = await spawnUntil(
    [BIN, 'server', '--host', '127.0.0.1', '--port', '0', '--memory', '--ttl', '3600', '--relay-idle', '3600', ...RELAY_LIMITS],
    {
      pattern: /listening on (http:\/\/\S+)/,
      env: { XDG_DATA_HOME: tempDir('p2p-bench-server-') },
    },
  )
  const url = relay.match[1]
  const pid = relay.child.pid
  await new Promise((r) => setTimeout(r, 500))
  const before = rssMb(pid)
  const controls = []
  const batch = 200
  const started = performance.now()
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, async (_, j) => {
        const userId = `u${i + j}`
        const identity = generateIdentity()
        const body = signRegister(identity, { userId, port: 0, ts: Date.now() })
        await register(url, body)
        controls.push(
          await RelayControl.connect({ serverUrl: url, identity, userId, signal: new AbortController().signal, timeoutMs: 30_000 }),
        )
      }),
    )
  }
  const seconds = (performance.now() - started) / 1000
  await new Promise((r) => setTimeout(r, 1000))
  const after = rssMb(pid)
  const open = controls.filter((c) => !c.closed).length
  for (const c of controls) c.close()
  await relay.stop()
  return { n, open, before, after, seconds }
}

/** A report row of `value` beside the same run's `baseline`. */
const ratioRow = (metric, value, baseline, goal) => ({ metric, value, baseline, ratio: value / baseline, goal })

export async function run({ quick }) {
  const durationMs = quick ? 4000 : 10_000
  const n = quick ? 300 : 2000
  const idleN = quick ? 2000 : 10_000

  const direct = await startPair({ peerRate: '0' })
  const directResult = await measure(direct.alice.socket, { durationMs, n })
  await direct.server.stop()

  const relayed = await relayedPair()
  const relayedResult = await measure(relayed.alice.socket, { durationMs, n })
  const relayRss = rssMb(relayed.serverPid)
  await relayed.stop()
  const cross = await crossInstance({ durationMs, n })

  const idle = await idleConnections(idleN)
  return {
    id: 'B7',
    title: 'relay: relayed link next to a direct one; memory of idle relay connections',
    command: `node bench/b7-relay.js${quick ? ' --quick' : ''}`,
    setup: `two daemons with --listen off (relayed) vs default (direct), P2P_PEER_RATE=0, server --relay-rate 0; across instances: alice on A, bob on B, two servers --redis --relay-url on one redis-server; 4 x 256 outstanding sends for ${durationMs / 1000} s, then ${n} sequential sends; ${idleN} authenticated idle control connections from one process`,
    rows: [
      ratioRow('relayed msg/s', relayedResult.perSecond, directResult.perSecond, '>= 0.7x'),
      ratioRow('relayed idle p50 (ms)', relayedResult.latency.p50, directResult.latency.p50, '<= direct + 0.5 ms'),
      { metric: 'relayed idle p99 (ms)', value: relayedResult.latency.p99, baseline: directResult.latency.p99, goal: 'report' },
      ...(cross
        ? [
            ratioRow(
              'relayed across 2 instances msg/s (baseline: relayed on one)',
              cross.perSecond,
              relayedResult.perSecond,
              'report (same splice, one process)',
            ),
            ratioRow('relayed across 2 instances idle p50 (ms)', cross.latency.p50, relayedResult.latency.p50, 'report'),
          ]
        : []),
      { metric: 'server RSS while relaying the load (MB)', value: relayRss, goal: 'report' },
      {
        metric: `server RSS with ${idle.open} idle relay connections (MB)`,
        value: idle.after,
        baseline: idle.before,
        goal: idleN >= 10_000 ? '< 300 MB' : 'report (10,000 in a full run)',
      },
      { metric: 'per idle relay connection (KB)', value: ((idle.after - idle.before) * 1024) / Math.max(1, idle.open), goal: 'report' },
    ],
    raw: { direct: directResult, relayed: relayedResult, crossInstance: cross, idle },
  }
}

/**
 * `node bench/b7-relay.js --cross`: only the relayed pair on one instance and across two, in
 * alternating rounds (the machine's load moves more between runs than the difference measured).
 */
export async function crossRounds({ quick }) {
  const rounds = quick ? 2 : 3
  const settings = { durationMs: 4000, n: 300 }
  const redis = await startRedis(tempDir('p2p-bench-redis-'))
  const results = []
  for (let round = 0; round < rounds; round++) {
    // ABBA: the load of a shared machine drifts, so neither mode always goes second.
    const modes = round % 2 === 0 ? ['one instance', 'two instances'] : ['two instances', 'one instance']
    for (const mode of modes) {
      redis.cli('flushall')
      const pair = await relayedPair(mode === 'two instances' ? redis.url : undefined)
      const r = await measure(pair.alice.socket, settings)
      await pair.stop()
      results.push({ round, mode, perSecond: r.perSecond, p50: r.latency.p50 })
    }
  }
  process.kill(redis.pid, 'SIGTERM')
  return { id: 'B7X', command: 'node bench/b7-relay.js --cross', setup: settings, results }
}

if (import.meta.url === `file://${process.argv[1]}`) await standalone(process.argv.includes('--cross') ? crossRounds : run)
