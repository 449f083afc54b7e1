/**
 * B4 at scale (issue 12): `wrk -t2 -c16` against the discovery server with the SQLite, memory and
 * Redis registries (one instance, and two instances on one Redis), each figure next to a minimal
 * node:http server under the same load in the same run:
 *   - GET /v1/peers?limit=100 (100 registered users)
 *   - GET /v1/peers/:id over those ids
 *   - keep-alives with the lease proof (what a daemon sends) and signed ones (older clients):
 *     distinct bodies made just before each run (the server refuses a replay), split between
 *     wrk's threads by bench/wrk/bodies.lua; only 2xx answers are counted.
 * Two instances: two wrk processes (-t1 -c8 each, one per instance) at once, summed; the load in
 * all is the same two threads and 16 connections. Then RSS of one instance and Redis memory per
 * user with 100,000 registered users (20,000 with --quick).
 *
 * Needs wrk and redis-server on PATH (apt-get install -y wrk redis-server).
 *
 * Standalone flags, for working on one path: `--backends=sqlite,memory,redis1,redis2` and
 * `--loads=list,lookup,keepalive,signed` pick rows (the memory-per-user figures run only with all
 * loads). BENCH_CPU_PROF=DIR: each server instance writes its CPU profile there when it stops
 * (bench/profile-top.js reads it), as the daemons of lib.js do.
 */
import { execFileSync, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BIN, cleanup, DIST, onCleanup, ROOT, rssMb, sleep, spawnUntil, standalone, tempDir, until } from './lib.js'

const { signRegister, signLeaseRequest } = await import(join(DIST, 'protocol', 'discovery.js'))
const { leaseMac, openLeaseKey } = await import(join(DIST, 'protocol', 'lease-proof.js'))
const { generateIdentity } = await import(join(DIST, 'protocol', 'identity.js'))

const flag = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const BACKENDS = flag('backends')?.split(',')
const ONLY_LOADS = flag('loads')?.split(',')

const USERS = 100
const THREADS = 2
const CONNECTIONS = 16

/** Runs wrk to its end; returns requests, non-2xx, seconds, p99 ms. */
function wrk(url, { seconds, script, args = [], threads = THREADS, connections = CONNECTIONS }) {
  const argv = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency']
  if (script) argv.push('-s', join(ROOT, 'bench', 'wrk', script))
  argv.push(url)
  if (args.length) argv.push('--', ...args)
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (s) => (out += s))
    child.stderr.on('data', (s) => (out += s))
    child.once('error', reject)
    child.once('exit', (code) => {
      const total = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(out)
      if (code !== 0 || !total) return reject(new Error(`wrk ${argv.join(' ')} failed (${code}):\n${out}`))
      const unit = { ms: 0.001, s: 1, m: 60 }[total[3]]
      const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out)
      resolve({
        requests: Number(total[1]),
        seconds: Number(total[2]) * unit,
        non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
        errors: /Socket errors: (.*)/.exec(out)?.[1],
        p99ms: p99 ? Number(p99[1]) * { us: 0.001, ms: 1, s: 1000 }[p99[2]] : undefined,
      })
    })
  })
}

/** One load against one or several instances at once (the connections split between them); ok answers per second. */
async function load(urls, options) {
  const parts = await Promise.all(
    urls.map((url) =>
      wrk(url, { ...options, threads: THREADS / urls.length, connections: CONNECTIONS / urls.length, args: options.args?.(url) }),
    ),
  )
  const ok = parts.reduce((n, p) => n + p.requests - p.non2xx, 0)
  const seconds = Math.max(...parts.map((p) => p.seconds))
  return { perSecond: ok / seconds, non2xx: parts.reduce((n, p) => n + p.non2xx, 0), p99ms: Math.max(...parts.map((p) => p.p99ms ?? 0)) }
}

const post = (url, path, body) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

/** Registers every user (32 at a time); returns the lease keys the server sealed to them, by user id. */
async function registerAll(url, users, startPort = 1024) {
  const leaseKeys = new Map()
  let i = 0
  const next = async () => {
    while (i < users.length) {
      const u = users[i++]
      const r = await post(
        url,
        '/v1/register',
        signRegister(u.identity, { userId: u.userId, port: startPort + (i % 60000), host: '127.0.0.1', ts: Date.now() }),
      )
      if (r.status !== 200) throw new Error(`register ${u.userId}: ${r.status} ${await r.text()}`)
      const { leaseKey } = await r.json()
      if (leaseKey) leaseKeys.set(u.userId, openLeaseKey(leaseKey, u.identity))
    }
  }
  await Promise.all(Array.from({ length: 32 }, next))
  return leaseKeys
}

// Each (user, ts) once in the whole run: ts climbs by one per round of users from 5 s in the past,
// which stays inside the server's 30 s window since runs take longer than the ms they use up.
let lastTs = 0
/**
 * `count` distinct keep-alives over `users`, one JSON body per line, in a file: proven with the
 * lease key when `leaseKeys` has one (what a daemon sends), else signed (an older client).
 */
function keepaliveFile(dir, users, count, leaseKeys) {
  const lines = []
  while (lines.length < count) {
    lastTs = Math.max(Date.now() - 5_000, lastTs + 1)
    const ts = lastTs
    for (const u of users) {
      const key = leaseKeys?.get(u.userId)
      const fields = { userId: u.userId, ts }
      lines.push(JSON.stringify(key ? { ...fields, mac: leaseMac(key, fields) } : signLeaseRequest(u.identity, 'keepalive', fields)))
    }
  }
  const file = join(dir, `keepalives-${lastTs}.jsonl`)
  writeFileSync(file, `${lines.slice(0, count).join('\n')}\n`)
  return file
}

/** A throwaway redis-server on a Unix socket in `dir` (B7 uses it too). */
export async function startRedis(dir) {
  const socket = join(dir, 'r.sock')
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  })
  onCleanup(() => child.kill('SIGTERM'))
  const cli = (...args) =>
    execFileSync('redis-cli', ['-s', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  await until(() => {
    try {
      return cli('ping') === 'PONG'
    } catch {
      return false
    }
  })
  return { url: `unix://${socket}`, cli, pid: child.pid }
}

async function startInstance(args, env = {}) {
  const data = tempDir('p2p-bench-server-')
  // Node 20 refuses --cpu-prof in NODE_OPTIONS, so it goes on the command line.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []
  const started = await spawnUntil(
    [...prof, BIN, 'server', '--host', '127.0.0.1', '--port', '0', '--ttl', '300', '--rate-limit', '0', ...args],
    {
      pattern: /listening on (http:\/\/\S+)/,
      env: { XDG_DATA_HOME: data, ...env },
    },
  )
  return { url: started.match[1], pid: started.child.pid, stop: started.stop, data }
}

const LOADS = [
  ['list', 'GET /v1/peers?limit=100 /s', '>= 0.6x'],
  ['lookup', 'GET /v1/peers/:id /s', '>= 0.6x'],
  ['keepalive', 'keep-alives with the lease proof (HMAC) /s', '>= 0.3x'],
  ['signed', 'keep-alives signed with Ed25519 (older clients) /s', 'report'],
].filter(([kind]) => !ONLY_LOADS || ONLY_LOADS.includes(kind))

/** One load against `urls` (one or two instances); `bodies` makes the POST files, fresh per run. */
function runLoad(kind, urls, { seconds, idsFile, dir, users, leaseKeys }) {
  if (kind === 'list')
    return load(
      urls.map((u) => `${u}/v1/peers?limit=100`),
      { seconds },
    )
  if (kind === 'lookup') return load(urls, { seconds, script: 'lookup.lua', args: () => [idsFile] })
  const cap = kind === 'signed' ? 15_000 : 40_000
  const files = new Map(
    urls.map((u) => [u, keepaliveFile(dir, users, Math.ceil((cap * seconds) / urls.length), kind === 'signed' ? undefined : leaseKeys)]),
  )
  return load(urls, { seconds, script: 'bodies.lua', args: (url) => [files.get(url), '/v1/keepalive', String(THREADS / urls.length)] })
}

/**
 * The machine is shared: other processes come and go. Each figure is the best of ROUNDS runs,
 * alternating with the baseline under the same load, so both see the same neighbours.
 */
const ROUNDS = 2
async function measure(urls, baseUrl, opts) {
  const result = {}
  for (const [kind] of LOADS) {
    const target = []
    const base = []
    for (let r = 0; r < ROUNDS; r++) {
      base.push(await runLoad(kind, [baseUrl], opts))
      target.push(await runLoad(kind, urls, opts))
    }
    const best = (runs) => runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a))
    result[kind] = { target: best(target), baseline: best(base), runs: { target, base } }
  }
  return result
}

export async function run({ quick }) {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
  } catch (error) {
    // wrk --version exits 1 after printing; only a missing binary is a problem.
    if (error.code === 'ENOENT') throw new Error('wrk is not installed: apt-get install -y wrk')
  }
  const seconds = quick ? 3 : 5
  const registered = quick ? 20_000 : 100_000
  const dir = tempDir('p2p-bench-wrk-')
  const users = Array.from({ length: USERS }, (_, i) => ({ userId: `u${String(i).padStart(3, '0')}`, identity: generateIdentity() }))
  const idsFile = join(dir, 'ids.txt')
  writeFileSync(idsFile, `${users.map((u) => u.userId).join('\n')}\n`)

  const base = await spawnUntil([join(ROOT, 'bench', 'min-http.js')], { pattern: /listening (http:\/\/\S+)/ })
  const baseUrl = base.match[1]

  const raw = {}
  const setups = [
    ['SQLite', 'sqlite', async () => [await startInstance(['--db', join(tempDir(), 'registry.db')])]],
    ['memory', 'memory', async () => [await startInstance(['--memory'])]],
    ['Redis, 1 instance', 'redis1', async (redis) => [await startInstance(['--redis', redis.url])]],
    [
      'Redis, 2 instances',
      'redis2',
      async (redis) => Promise.all([startInstance(['--redis', redis.url]), startInstance(['--redis', redis.url])]),
    ],
  ].filter(([, id]) => !BACKENDS || BACKENDS.includes(id))
  const rows = []
  let redis
  for (const [name, , start] of setups) {
    if (name.startsWith('Redis')) {
      redis ??= await startRedis(dir)
      redis.cli('flushall')
    }
    const instances = await start(redis)
    const leaseKeys = await registerAll(instances[0].url, users)
    const result = await measure(
      instances.map((i) => i.url),
      baseUrl,
      { seconds, idsFile, dir, users, leaseKeys },
    )
    raw[name] = result
    for (const [kind, label, goal] of LOADS) {
      const { target, baseline } = result[kind]
      rows.push({
        metric: `${label} (${name})`,
        value: target.perSecond,
        baseline: baseline.perSecond,
        ratio: target.perSecond / baseline.perSecond,
        goal,
        p99ms: target.p99ms,
        non2xx: target.non2xx,
      })
    }
    if (name === 'Redis, 1 instance' && !ONLY_LOADS) {
      // Memory per registered user in Redis, and one instance's RSS, with many users.
      const used = () => Number(/used_memory:(\d+)/.exec(redis.cli('info', 'memory'))[1])
      const before = used()
      const many = Array.from({ length: registered }, (_, i) => ({ userId: `m${i}`, identity: users[i % USERS].identity }))
      await registerAll(instances[0].url, many, 2000)
      const after = used()
      const rss = rssMb(instances[0].pid)
      // Each registration's replay record lives 30 s past its ts; what stays is the user's hash and index entries.
      await sleep(31_000)
      const steady = used()
      rows.push(
        {
          metric: `Redis memory per online user, right after registering (${registered} users)`,
          value: (after - before) / registered,
          goal: 'report',
        },
        {
          metric: `Redis memory per online user, once replay records expired (${registered} users)`,
          value: (steady - before) / registered,
          goal: 'report',
        },
        { metric: `instance RSS MB with ${registered + USERS} registered users (Redis)`, value: rss, goal: 'report' },
      )
      raw.redisMemory = { before, after, steady }
    }
    await Promise.all(instances.map((i) => i.stop()))
  }
  await base.stop()
  await cleanup()
  return {
    id: 'B4W',
    title: 'discovery server at scale (wrk, same-run node:http baseline)',
    command: `node bench/b4-wrk.js${quick ? ' --quick' : ''}`,
    setup: `wrk -t${THREADS} -c${CONNECTIONS} -d${seconds}s per run, best of ${ROUNDS} runs alternating with the baseline; ${USERS} registered users; keep-alives: distinct bodies, only 2xx counted; two instances: two wrk -t1 -c8 at once; --rate-limit 0`,
    rows,
    raw,
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await standalone(run)
