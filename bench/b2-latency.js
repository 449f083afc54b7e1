/**
 * B2: latency of one `send` until its answer "delivered" (bob stored and acked it, alice marked it
 * delivered), one at a time on an open control connection, idle and while a background load keeps
 * the same link busy; beside the raw TCP round trip of the same JSON line to a child process.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cleanup, payload, percentiles, standalone } from './lib.js'
import { clientsFor, drive, sendRequest, startDurableFloor, startPair, startRawEcho } from './pair.js'

async function probe(client, n, request) {
  const times = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const response = await request(client, i)
    const ms = performance.now() - t0
    if (response.result?.status !== 'delivered') throw new Error(`probe ${i}: ${JSON.stringify(response)}`)
    times.push(ms)
  }
  return percentiles(times)
}

/** Probes while `loadClients` keep `window` sends each outstanding. */
async function underLoad(probeClient, loadClients, n, window) {
  const load = drive(loadClients, { durationMs: 1e9, warmupMs: 0, window, request: sendRequest })
  await new Promise((r) => setTimeout(r, 500))
  const result = await probe(probeClient, n, sendRequest)
  // Stop the load: close its clients (outstanding answers are dropped).
  for (const c of loadClients) c.close()
  void load
  return result
}

/**
 * The disk's own price: a 4 KiB append and its fdatasync, in the temp dir the profiles live in.
 * A "delivered" waits for the receiver's fsync (and, at the same time, the sender's), so idle
 * latency cannot go below one of these.
 */
function fsyncProbe(n) {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-bench-fsync-'))
  const fd = openSync(join(dir, 'probe'), 'w')
  const block = Buffer.alloc(4096, 0x61)
  const times = []
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      writeSync(fd, block)
      fdatasyncSync(fd)
      times.push(performance.now() - t0)
    }
  } finally {
    closeSync(fd)
    rmSync(dir, { recursive: true, force: true })
  }
  return percentiles(times)
}

export async function run({ quick }) {
  const n = quick ? 300 : 2000
  const nLoaded = quick ? 200 : 1000
  const loadWindow = 64

  const raw = await startRawEcho()
  const target = { host: '127.0.0.1', port: raw.port }
  const [rawProbe] = await clientsFor(target, 1)
  await probe(rawProbe, 100, sendRequest)
  const rawIdle = await probe(rawProbe, n, sendRequest)
  const rawLoaded = await underLoad(rawProbe, await clientsFor(target, 1), nLoaded, loadWindow)
  rawProbe.close()

  const fsync = fsyncProbe(quick ? 50 : 200)

  const floor = await startDurableFloor()
  const [floorProbe] = await clientsFor(floor.socket, 1)
  await probe(floorProbe, 100, sendRequest)
  const floorIdle = await probe(floorProbe, n, sendRequest)
  const floorLoaded = await underLoad(floorProbe, await clientsFor(floor.socket, 1), nLoaded, loadWindow)
  floorProbe.close()
  floor.stop()

  const { alice } = await startPair({ peerRate: '0' })
  const [p2pProbe] = await clientsFor(alice.socket, 1)
  await probe(p2pProbe, 100, sendRequest)
  const idle = await probe(p2pProbe, n, sendRequest)
  const loaded = await underLoad(p2pProbe, await clientsFor(alice.socket, 1), nLoaded, loadWindow)
  p2pProbe.close()
  await cleanup()

  const row = (metric, p, b, goal) => ({ metric, value: p, baseline: b, ratio: p / b, goal })
  return {
    id: 'B2',
    title: 'latency of one send until its answer "delivered" (ms)',
    command: `node bench/b2-latency.js${quick ? ' --quick' : ''}`,
    setup: `${n} sequential sends idle, ${nLoaded} under a background load of ${loadWindow} outstanding sends on another connection; payload ${payload(0).length} bytes`,
    rows: [
      row('idle p50', idle.p50, rawIdle.p50, '<= 1 ms'),
      row('idle p99', idle.p99, rawIdle.p99, '<= 5 ms'),
      row('idle max', idle.max, rawIdle.max, 'report'),
      row('loaded p50', loaded.p50, rawLoaded.p50, '<= 1 ms'),
      row('loaded p99', loaded.p99, rawLoaded.p99, '<= 5 ms'),
      row('loaded max', loaded.max, rawLoaded.max, 'report'),
      row('idle p50 against one 4 KiB append + fdatasync (disk)', idle.p50, fsync.p50, 'report'),
      row('idle p50 against the same path in bare node (floor)', idle.p50, floorIdle.p50, 'report'),
      row('loaded p50 against the floor', loaded.p50, floorLoaded.p50, 'report'),
      row('loaded p99 against the floor', loaded.p99, floorLoaded.p99, 'report'),
    ],
    raw: { idle, loaded, rawIdle, rawLoaded, fsync, floorIdle, floorLoaded },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await standalone(run)
