/**
 * B9: the idle footprint. A real daemon in a temp profile, registered on a real discovery server,
 * no links, idle: its RSS (and peak, VmHWM) from /proc once it has settled, beside a bare
 * `node -e 'setInterval(()=>{},1e9)'` of the same run. Then the same daemon after it has sent and
 * received 1,000 messages (a second daemon on the other end) and gone idle again.
 *
 * Each idle figure is read twice: once settled, and again after IDLE_MS of idleness. V8's memory
 * reducer gives the young generation back on its own once the allocation rate stays low: 8 s
 * after the last mark-compact it checks, and it collects within about 16 s of the daemon going
 * idle (`--trace-gc --trace-gc-verbose` prints "Memory reducer: started GC"). A daemon that runs
 * all day spends its day in that second state.
 */
import { spawn } from 'node:child_process'
import { cleanup, onCleanup, payload, peakRssMb, rssMb, sleep, standalone, startDaemon, startServer, stopChild } from './lib.js'
import { clientsFor } from './pair.js'

/** How long the daemon is left idle before the second reading: past V8's memory reducer (about 16 s). */
const IDLE_MS = 30_000

/** RSS once it stops moving: two readings `everyMs` apart within 0.5 MB, or the last after `maxMs`. */
async function settledRss(pid, { everyMs = 1000, maxMs = 20_000 } = {}) {
  let last = rssMb(pid)
  const deadline = Date.now() + maxMs
  for (;;) {
    await sleep(everyMs)
    const now = rssMb(pid)
    if (Math.abs(now - last) < 0.5 || Date.now() > deadline) return now
    last = now
  }
}

async function bareNode() {
  const child = spawn(process.execPath, ['-e', 'setInterval(()=>{},1e9)'], { stdio: 'ignore' })
  onCleanup(() => stopChild(child))
  await new Promise((resolve) => child.once('spawn', resolve))
  // It has nothing to load; give it the same time to settle as the daemon.
  const rss = await settledRss(child.pid)
  return { rss, peak: peakRssMb(child.pid) }
}

/** `n` acked sends from `from` to `to`, 32 outstanding. */
async function exchange(from, to, n) {
  const [client] = await clientsFor(from.socket, 1)
  let next = 0
  const lane = async () => {
    while (next < n) {
      const i = next++
      const answer = await client.request('send', { to, text: payload(i), timeout: 30 })
      if (answer.result?.status !== 'delivered') throw new Error(`send ${i}: ${JSON.stringify(answer)}`)
    }
  }
  await Promise.all(Array.from({ length: 32 }, lane))
  client.close()
}

export async function run({ quick }) {
  const server = await startServer()
  const bare = await bareNode()
  const alice = await startDaemon({ userId: 'alice', serverUrl: server.url })
  const registered = Date.now()
  const idle = await settledRss(alice.pid)
  const idlePeak = peakRssMb(alice.pid)
  await sleep(registered + IDLE_MS - Date.now())
  const idleLong = await settledRss(alice.pid)

  const n = 1000
  const bob = await startDaemon({ userId: 'bob', serverUrl: server.url })
  await exchange(alice, 'bob', n)
  await exchange(bob, 'alice', n)
  await bob.stop()
  // Alice notices the link is gone; then she is idle again.
  const stopped = Date.now()
  const after = await settledRss(alice.pid, { maxMs: quick ? 15_000 : 30_000 })
  const afterPeak = peakRssMb(alice.pid)
  await sleep(stopped + IDLE_MS - Date.now())
  const afterLong = await settledRss(alice.pid)
  await cleanup()

  return {
    id: 'B9',
    title: 'the idle footprint: one daemon, registered, no links',
    command: `node bench/b9-idle.js${quick ? ' --quick' : ''}`,
    setup: `RSS from /proc once two readings 1 s apart differ by < 0.5 MB, and again ${IDLE_MS / 1000} s into the idle period; baseline: \`node -e 'setInterval(()=>{},1e9)'\` in the same run`,
    rows: [
      { metric: 'idle daemon RSS, no links, settled (MB)', value: idle, baseline: bare.rss, ratio: idle / bare.rss, goal: 'report' },
      {
        metric: `idle daemon RSS, no links, ${IDLE_MS / 1000} s after registering (MB)`,
        value: idleLong,
        baseline: bare.rss,
        ratio: idleLong / bare.rss,
        goal: '<= 1.5x',
      },
      { metric: 'idle daemon peak RSS, VmHWM (MB)', value: idlePeak, baseline: bare.peak, ratio: idlePeak / bare.peak, goal: 'report' },
      {
        metric: `RSS idle again after ${n.toLocaleString('en-US')} sent and ${n.toLocaleString('en-US')} received (MB)`,
        value: after,
        baseline: bare.rss,
        ratio: after / bare.rss,
        goal: 'report',
      },
      { metric: 'peak RSS by then (MB)', value: afterPeak, goal: 'report' },
      {
        metric: `RSS ${IDLE_MS / 1000} s after the other daemon stopped (MB)`,
        value: afterLong,
        baseline: bare.rss,
        ratio: afterLong / bare.rss,
        goal: 'report',
      },
    ],
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await standalone(run)
