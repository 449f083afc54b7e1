/**
 * Shared pieces of the benchmarks: real processes (discovery server, daemons) in temp dirs on
 * port 0, a pipelining JSON-RPC client, percentiles, RSS, and cleanup. Runs the built code
 * (`dist/`, `bin/run.js`), so `npm run build` first (`npm run bench` does it).
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { cpus, freemem, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const BIN = join(ROOT, 'bin', 'run.js')
export const DIST = join(ROOT, 'dist')
export const QUICK = process.argv.includes('--quick')

/** Fast retry timings, as the tests use; the rate limits are set per benchmark. */
export const FAST_ENV = {
  P2P_RETRY_BASE_MS: '100',
  P2P_RETRY_MAX_MS: '500',
  P2P_DISCOVERY_RETRY_MAX_MS: '500',
  NO_COLOR: '1',
}

const cleanups = []
/** Registers `fn` to run at the end of the benchmark (last in, first out). */
export function onCleanup(fn) {
  cleanups.push(fn)
}
export async function cleanup() {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()
    try {
      await fn()
    } catch {
      // Best effort: the rest still runs.
    }
  }
}

export function tempDir(prefix = 'p2p-bench-') {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  onCleanup(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Spawns a child and resolves once `pattern` matches its stdout; killed (SIGKILL after SIGTERM) at cleanup. */
export function spawnUntil(args, { pattern, env = {}, timeoutMs = 30_000, node = process.execPath, cwd = ROOT } = {}) {
  const child = spawn(node, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (s) => {
    out += s
    if (out.length > 1e6) out = out.slice(-1e5)
  })
  child.stderr.setEncoding('utf8').on('data', (s) => {
    out += s
    if (out.length > 1e6) out = out.slice(-1e5)
  })
  const stop = () => stopChild(child)
  onCleanup(stop)
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${args.join(' ')}: no match for ${pattern} within ${timeoutMs} ms\n${out}`))
    }, timeoutMs)
    const onData = () => {
      const m = pattern.exec(out)
      if (!m) return
      clearTimeout(timer)
      child.stdout.off('data', onData)
      child.off('exit', onExit)
      resolvePromise({ child, match: m, output: () => out, stop })
    }
    const onExit = (code) => {
      clearTimeout(timer)
      reject(new Error(`${args.join(' ')} exited with ${code}:\n${out}`))
    }
    child.stdout.on('data', onData)
    child.once('exit', onExit)
  })
}

export function stopChild(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((r) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(timer)
      r()
    })
    child.kill('SIGTERM')
  })
}

/** `p2p server` on port 0, memory registry, no per-address limit (all load comes from 127.0.0.1). */
export async function startServer({ memory = true, ttl = 300, env = {} } = {}) {
  const data = tempDir('p2p-bench-server-')
  const args = [BIN, 'server', '--host', '127.0.0.1', '--port', '0', '--ttl', String(ttl), '--rate-limit', '0']
  if (memory) args.push('--memory')
  else args.push('--db', join(data, 'registry.db'))
  const started = await spawnUntil(args, { pattern: /listening on (http:\/\/\S+)/, env: { XDG_DATA_HOME: data, ...env } })
  return { url: started.match[1], pid: started.child.pid, child: started.child, stop: started.stop }
}

/** A real daemon process (`p2p daemon run`) in a fresh temp home. */
export async function startDaemon({ userId, serverUrl, env = {}, home } = {}) {
  const dir = home ?? tempDir('p2p-bench-home-')
  const args = [BIN, 'daemon', 'run', '--home', dir, '--server', serverUrl, '--port', '0', '--user', userId]
  // BENCH_CPU_PROF=DIR: every daemon writes a CPU profile there when it stops.
  // (Node 20 refuses --cpu-prof in NODE_OPTIONS, so it goes on the command line.)
  if (process.env.BENCH_CPU_PROF) args.unshift('--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`)
  const started = await spawnUntil(args, { pattern: / on port (\d+), control socket (\S+)\n/, env: { ...FAST_ENV, ...env } })
  const socket = started.match[2]
  const daemon = {
    userId,
    home: dir,
    port: Number(started.match[1]),
    socket,
    pid: started.child.pid,
    child: started.child,
    stop: started.stop,
    rpc: (method, params) => rpcOnce(socket, method, params),
  }
  await until(async () => (await daemon.rpc('status')).server.registered, 15_000)
  return daemon
}

/** Polls `check` until truthy. */
export async function until(check, timeoutMs = 15_000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(everyMs)
  }
}

/** One JSON-RPC call on its own connection, as the CLI makes it. */
export function rpcOnce(socketPath, method, params) {
  const client = new RpcClient(socketPath)
  return client
    .ready()
    .then(() => client.call(method, params))
    .finally(() => client.close())
}

/**
 * A long-lived, pipelining JSON-RPC client: requests written in the same turn go out in one
 * write (as a client sending a batch of lines would), answers are matched by id.
 */
export class RpcClient {
  /** `target`: a Unix socket path, or `{ host, port }` for the raw TCP baseline. */
  constructor(target) {
    this.socket = typeof target === 'string' ? connect(target) : connect(target)
    if (typeof target !== 'string') this.socket.setNoDelay(true)
    this.nextId = 1
    this.waiting = new Map()
    this.buffer = ''
    this.outgoing = []
    this.scheduled = false
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve)
      this.socket.once('error', reject)
    })
    this.socket.setEncoding('utf8')
    this.socket.on('data', (chunk) => {
      const text = this.buffer + chunk
      let start = 0
      for (;;) {
        const nl = text.indexOf('\n', start)
        if (nl < 0) break
        const message = JSON.parse(text.slice(start, nl))
        start = nl + 1
        const done = this.waiting.get(message.id)
        if (!done) continue
        this.waiting.delete(message.id)
        done(message)
      }
      this.buffer = text.slice(start)
    })
    this.socket.on('error', () => {})
  }

  ready() {
    return this.connected
  }

  /** Resolves with the whole response (result or error). */
  request(method, params) {
    const id = this.nextId++
    this.outgoing.push(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params !== undefined ? { params } : {}) }))
    if (!this.scheduled) {
      this.scheduled = true
      queueMicrotask(() => {
        this.scheduled = false
        this.socket.write(`${this.outgoing.join('\n')}\n`)
        this.outgoing = []
      })
    }
    return new Promise((resolve) => this.waiting.set(id, resolve))
  }

  async call(method, params) {
    const response = await this.request(method, params)
    if (response.error) throw new Error(`${method}: ${response.error.message}`)
    return response.result
  }

  close() {
    this.socket.destroy()
  }
}

/** Percentiles of a list of numbers (nearest rank). */
export function percentiles(values) {
  const sorted = Float64Array.from(values).sort()
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
  let sum = 0
  for (const v of sorted) sum += v
  return {
    n: sorted.length,
    min: sorted[0],
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: sorted[sorted.length - 1],
    mean: sum / sorted.length,
  }
}

export const median = (values) => percentiles(values).p50

/** Resident set size of a process in MB, from /proc. */
export function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = /VmRSS:\s+(\d+) kB/.exec(status)
  return m ? Number(m[1]) / 1024 : Number.NaN
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (all its threads). */
export function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  // utime and stime are fields 14 and 15 of stat, counted from the state field (3) here; in clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** Peak resident set size (VmHWM) of a process in MB. */
export function peakRssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = /VmHWM:\s+(\d+) kB/.exec(status)
  return m ? Number(m[1]) / 1024 : Number.NaN
}

export function machine() {
  const cpu = cpus()
  return {
    cores: cpu.length,
    cpu: cpu[0]?.model ?? '?',
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeGb: Math.round((freemem() / 2 ** 30) * 10) / 10,
    node: process.version,
    date: new Date().toISOString(),
    extraCaCerts: process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset',
  }
}

export function hasCommand(name) {
  return existsSync(`${join(DIST, 'commands', ...name.split(' '))}.js`)
}

/** A ~100-byte message text. */
export function payload(i) {
  const head = `message ${i} `
  return head + 'x'.repeat(Math.max(1, 100 - head.length))
}

export const round = (x, digits = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x)
export const fmt = (x) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : String(round(x))) : String(x))

/** Runs a benchmark module's `run()` standalone (node bench/b1-throughput.js [--quick]). */
export async function standalone(run) {
  const stop = async () => {
    await cleanup()
    process.exit(130)
  }
  process.once('SIGINT', stop)
  try {
    const result = await run({ quick: QUICK })
    console.log(JSON.stringify(result, null, 2))
  } finally {
    await cleanup()
  }
  process.exit(0)
}
