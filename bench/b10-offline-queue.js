/**
 * B10: a long offline queue. Alice queues N messages for bob while bob is offline: her daemon's
 * resident memory then (goal: under 150 MB for 100,000), and the rate at which the queue drains
 * once bob is back, beside the rate at which the same daemon pair clears a backlog of the same
 * kind with bob online from the start (same run).
 *
 * Alice's RSS is read right after the last send is stored (what the burst grew) and again
 * SETTLE_MS later, the queue still waiting: by then V8's memory reducer has given back the young
 * generation that the burst grew to its maximum (about 30 MB; see B9).
 *
 * Then the same with messages of 60 KiB, in MiB/s: a refill must read no more of them from
 * SQLite than the byte window lets out (a read of a window's count of them once held 430 MB).
 */
import { cleanup, payload, peakRssMb, rssMb, sleep, standalone, startDaemon, until } from './lib.js'
import { clientsFor, startPair } from './pair.js'

/** Sends `n` messages with `window` outstanding, each answered once stored (timeout 0). */
/** How long the queue waits before the second reading: past V8's memory reducer (B9). */
const SETTLE_MS = 30_000

async function queue(socket, n, prefix, window = 256, text = payload) {
  const [client] = await clientsFor(socket, 1)
  let next = 0
  const lane = async () => {
    while (next < n) {
      const i = next++
      const answer = await client.request('send', { to: 'bob', text: `${prefix} ${text(i)}`, timeout: 0 })
      if (answer.error) throw new Error(`send ${i}: ${JSON.stringify(answer.error)}`)
    }
  }
  await Promise.all(Array.from({ length: window }, lane))
  client.close()
}

/** Seconds until alice's outbox is empty. */
async function drained(alice, started) {
  await until(async () => (await alice.rpc('status')).outbox.queued === 0, 600_000, 100)
  return (performance.now() - started) / 1000
}

/** Characters per long message: near the 64 KiB limit, so the send window is bound by bytes, not by count. */
const LONG_CHARS = 60 * 1024

/**
 * The same two phases with long messages, on a fresh pair: the online backlog, then the drain of
 * a queue built while bob was away, with alice's peak RSS during the drain. The mailbox waits
 * an hour here: this measures the link.
 */
async function longMessages(n) {
  const env = { P2P_MAILBOX_AFTER_MS: '3600000' }
  const { server, alice, bob } = await startPair({ env })
  const long = (i) => `${i} `.padEnd(LONG_CHARS, 'x')
  const mib = (n * LONG_CHARS) / 1048576
  const onlineStart = performance.now()
  await queue(alice.socket, n, 'online', 32, long)
  const online = mib / (await drained(alice, onlineStart))
  await bob.stop()
  await queue(alice.socket, n, 'offline', 32, long)
  const queuedRss = rssMb(alice.pid)
  let peak = queuedRss
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(alice.pid))
  }, 20)
  const backStart = performance.now()
  await startDaemon({ userId: 'bob', serverUrl: server.url, home: bob.home, env: { P2P_PEER_RATE: '0', ...env } })
  const drain = mib / (await drained(alice, backStart))
  clearInterval(sampler)
  await cleanup()
  return { online, drain, queuedRss, peak }
}

export async function run({ quick }) {
  const n = quick ? 20_000 : 100_000
  const { server, alice, bob } = await startPair()

  // Online: the same backlog, queued as fast as alice takes it, with bob's link up.
  const onlineStart = performance.now()
  await queue(alice.socket, n, 'online')
  const onlineSeconds = await drained(alice, onlineStart)

  await bob.stop()
  const idleRss = rssMb(alice.pid)
  await queue(alice.socket, n, 'offline')
  const queuedRss = rssMb(alice.pid)
  const queuedPeak = peakRssMb(alice.pid)
  await sleep(SETTLE_MS)
  const settledRss = rssMb(alice.pid)
  const backStart = performance.now()
  const bobAgain = await startDaemon({ userId: 'bob', serverUrl: server.url, home: bob.home, env: { P2P_PEER_RATE: '0' } })
  const drainSeconds = await drained(alice, backStart)
  const drainedRss = rssMb(alice.pid)
  void bobAgain
  await cleanup()

  const online = n / onlineSeconds
  const drain = n / drainSeconds
  const nLong = quick ? 400 : 2000
  const long = await longMessages(nLong)
  return {
    id: 'B10',
    title: `an offline queue of ${n.toLocaleString('en-US')} messages: alice's memory, and the drain when bob is back`,
    command: `node bench/b10-offline-queue.js${quick ? ' --quick' : ''}`,
    setup: `~100-byte messages, queued with 256 sends outstanding (timeout 0); the drain is timed from bob's start to an empty outbox; then ${nLong.toLocaleString('en-US')} messages of 60 KiB the same way on a fresh pair, 32 outstanding`,
    rows: [
      { metric: 'drain msg/s after bob is back', value: drain, baseline: online, ratio: drain / online, goal: '>= 1x (B1 rate)' },
      { metric: 'online backlog msg/s (baseline)', value: online },
      {
        metric: `alice RSS with ${n.toLocaleString('en-US')} queued, right after the burst (MB)`,
        value: queuedRss,
        baseline: idleRss,
        ratio: queuedRss / idleRss,
        goal: 'report',
      },
      {
        metric: `alice RSS with ${n.toLocaleString('en-US')} queued, ${SETTLE_MS / 1000} s later (MB)`,
        value: settledRss,
        baseline: idleRss,
        ratio: settledRss / idleRss,
        goal: '< 150 MB',
      },
      { metric: 'alice peak RSS (MB)', value: queuedPeak, goal: 'report' },
      { metric: 'alice RSS after the drain (MB)', value: drainedRss, goal: 'report' },
      {
        metric: `drain MiB/s of ${nLong.toLocaleString('en-US')} queued 60 KiB messages`,
        value: long.drain,
        baseline: long.online,
        ratio: long.drain / long.online,
        goal: '>= 1x (the online backlog)',
      },
      { metric: 'online backlog MiB/s of the same long messages (baseline)', value: long.online },
      {
        metric: 'alice peak RSS while they drain (MB)',
        value: long.peak,
        baseline: long.queuedRss,
        ratio: long.peak / long.queuedRss,
        goal: 'report',
      },
    ],
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await standalone(run)
