/**
 * B4 at scale (issue 12): `wrk -t2 -c16` against the discovery server with the SQLite, memory and
 * Redis registries (one instance, and two instances on one Redis), each figure next to a minimal
 * node:http server under the same load in the same run:
 *   - GET /v1/peers?limit=100 (100 registered users)
 *   - GET /v1/peers/:id over those ids
 *   - signed keep-alives: distinct bodies signed just before the run (the server refuses a replay),
 *     split between wrk's threads by bench/wrk/bodies.lua; only 2xx answers are counted.
 * Two instances: two wrk processes (-t1 -c8 each, one per instance) at once, summed; the load in
 * all is the same two threads and 16 connections. Then RSS of one instance and Redis memory per
 * user with 100,000 registered users (20,000 with --quick).
 *
 * Needs wrk and redis-server on PATH (apt-get install -y wrk redis-server).
 */
import { execFileSync, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BIN, cleanup, DIST, onCleanup, ROOT, rssMb, spawnUntil, standalone, tempDir, until } from './lib.js'

const { signRegister, signLeaseRequest } = await import(join(DIST, 'protocol', 'discovery.js'))
const { generateIdentity } = await import(join(DIST, 'protocol', 'identity.js'))

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

async function registerAll(url, users, startPort = 1024) {
  let i = 0
  // 32 at a time: registration is not what is measured here.
  const next = async () => {
    while (i < users.length) {
      const u = users[i++]
      const r = await post(
        url,
        '/v1/register',
        signRegister(u.identity, { userId: u.userId, port: startPort + (i % 60000), host: '127.0.0.1', ts: Date.now() }),
      )
      if (r.status !== 200) throw new Error(`register ${u.userId}: ${r.status} ${await r.text()}`)
    }
  }
  await Promise.all(Array.from({ length: 32 }, next))
}

/** `count` distinct signed keep-alives over `users`, one JSON body per line, in a file. */
function keepaliveFile(dir, users, count) {
  const now = Date.now()
  const lines = []
  for (let j = 0; lines.length < count; j++) {
    for (const u of users) lines.push(JSON.stringify(signLeaseRequest(u.identity, 'keepalive', { userId: u.userId, ts: now + j })))
  }
  const file = join(dir, `keepalives-${now}.jsonl`)
  writeFileSync(file, `${lines.slice(0, count).join('\n')}\n`)
  return file
}

async function startRedis(dir) {
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
  const started = await spawnUntil([BIN, 'server', '--host', '127.0.0.1', '--port', '0', '--ttl', '300', '--rate-limit', '0', ...args], {
    pattern: /listening on (http:\/\/\S+)/,
    env: { XDG_DATA_HOME: data, ...env },
  })
  return { url: started.match[1], pid: started.child.pid, stop: started.stop, data }
}

async function measure(urls, { users, idsFile, dir, seconds, keepalivesPerSecondCap }) {
  const list = await load(urls, { seconds })
  const lookup = await load(urls, { seconds, script: 'lookup.lua', args: () => [idsFile] })
  const bodiesPerPart = Math.ceil((keepalivesPerSecondCap * seconds) / urls.length)
  const files = new Map(urls.map((u, i) => [u, keepaliveFile(dir, users, bodiesPerPart + i)]))
  const keepalive = await load(urls, {
    seconds,
    script: 'bodies.lua',
    args: (url) => [files.get(url), '/v1/keepalive', String(THREADS / urls.length)],
  })
  return { list, lookup, keepalive }
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
  const opts = { users, idsFile, dir, seconds, keepalivesPerSecondCap: 40_000 }

  // wrk's URL carries the list path; the scripts set their own.
  const withPath = (urls) => urls.map((u) => `${u}/v1/peers?limit=100`)

  const base = await spawnUntil([join(ROOT, 'bench', 'min-http.js')], { pattern: /listening (http:\/\/\S+)/ })
  const baseline = await measure(withPath([base.match[1]]), opts)
  await base.stop()

  const raw = { baseline }
  const setups = [
    ['SQLite', async () => [await startInstance(['--db', join(tempDir(), 'registry.db')])]],
    ['memory', async () => [await startInstance(['--memory'])]],
    ['Redis, 1 instance', async (redis) => [await startInstance(['--redis', redis.url])]],
    ['Redis, 2 instances', async (redis) => Promise.all([startInstance(['--redis', redis.url]), startInstance(['--redis', redis.url])])],
  ]
  const rows = []
  let redis
  for (const [name, start] of setups) {
    if (name.startsWith('Redis')) {
      redis ??= await startRedis(dir)
      redis.cli('flushall')
    }
    const instances = await start(redis)
    await registerAll(instances[0].url, users)
    const result = await measure(withPath(instances.map((i) => i.url)), opts)
    raw[name] = result
    for (const [key, label, goal] of [
      ['list', 'GET /v1/peers?limit=100 /s', '>= 0.6x'],
      ['lookup', 'GET /v1/peers/:id /s', '>= 0.6x'],
      ['keepalive', 'signed keep-alives /s', '>= 0.3x'],
    ]) {
      rows.push({
        metric: `${label} (${name})`,
        value: result[key].perSecond,
        baseline: baseline[key].perSecond,
        ratio: result[key].perSecond / baseline[key].perSecond,
        goal,
        p99ms: result[key].p99ms,
        non2xx: result[key].non2xx,
      })
    }
    if (name === 'Redis, 1 instance') {
      // Memory per registered user in Redis, and one instance's RSS, with many users.
      const before = Number(/used_memory:(\d+)/.exec(redis.cli('info', 'memory'))[1])
      const many = Array.from({ length: registered }, (_, i) => ({ userId: `m${i}`, identity: users[i % USERS].identity }))
      await registerAll(instances[0].url, many, 2000)
      const after = Number(/used_memory:(\d+)/.exec(redis.cli('info', 'memory'))[1])
      const perUser = (after - before) / registered
      rows.push(
        { metric: `Redis memory per registered, online user (${registered} users)`, value: perUser, goal: 'report' },
        { metric: `instance RSS MB with ${registered + USERS} registered users (Redis)`, value: rssMb(instances[0].pid), goal: 'report' },
      )
      raw.redisMemory = { before, after, perUser }
    }
    await Promise.all(instances.map((i) => i.stop()))
  }
  await cleanup()
  return {
    id: 'B4W',
    title: 'discovery server at scale (wrk, same-run node:http baseline)',
    command: `node bench/b4-wrk.js${quick ? ' --quick' : ''}`,
    setup: `wrk -t${THREADS} -c${CONNECTIONS} -d${seconds}s per figure; ${USERS} registered users; keep-alives: distinct signed bodies, 2xx counted; --rate-limit 0`,
    rows,
    raw,
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await standalone(run)
