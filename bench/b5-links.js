/**
 * B5: one daemon with many live peer links. Lightweight fake peers (one process: this one) each
 * register on the discovery server, dial the daemon, run the real Noise handshake and hello
 * (`handshake` from dist/daemon/peer-connection.js) and answer pings. The daemon's store knows
 * 10,000 peers (pinned before it starts). Measures set-up time and the daemon's RSS at 100, 250,
 * 500 and 1,000 links, then a round of one message per link (all acked).
 */
import { connect } from 'node:net'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { cleanup, DIST, rssMb, sleep, standalone, startDaemon, startServer, tempDir, until } from './lib.js'

const { handshake } = await import(join(DIST, 'daemon', 'peer-connection.js'))
const { generateIdentity, toHex } = await import(join(DIST, 'protocol', 'identity.js'))
const { signRegister } = await import(join(DIST, 'protocol', 'discovery.js'))
const { openDatabase } = await import(join(DIST, 'daemon', 'stores', 'database.js'))

const DIAL_CONCURRENCY = 32

async function registerAll(url, peers) {
  let next = 0
  const bodies = peers.map((p) =>
    JSON.stringify(signRegister(p.identity, { userId: p.userId, port: 9, host: '127.0.0.1', ts: Date.now() })),
  )
  const r = await autocannon({
    url,
    connections: 16,
    amount: bodies.length,
    requests: [
      {
        method: 'POST',
        path: '/v1/register',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: bodies[next++] }),
      },
    ],
  })
  if (r.non2xx || r.errors) throw new Error(`registration: ${r.non2xx} non-2xx, ${r.errors} errors`)
}

async function dialPeer(peer, port, daemonKey) {
  const socket = connect({ host: '127.0.0.1', port })
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.setNoDelay(true)
  const est = await handshake({
    socket,
    initiator: true,
    identity: peer.identity,
    myUserId: peer.userId,
    expectedKey: daemonKey,
    timeoutMs: 30_000,
  })
  peer.stream = est.stream
  peer.acks = 0
  est.stream.on('error', () => {})
  est.stream.on('data', (chunk) => {
    const lines = est.splitter.push(chunk)
    if (lines === 'overflow') return
    for (const line of lines) {
      if (line.includes('"ping"')) est.stream.write(Buffer.from('{"t":"pong"}\n'))
      else if (line.includes('"ack"')) peer.acks++
    }
  })
  est.stream.resume()
}

async function dialRange(peers, from, to, port, daemonKey) {
  let next = from
  const worker = async () => {
    while (next < to) {
      const i = next++
      await dialPeer(peers[i], port, daemonKey)
    }
  }
  await Promise.all(Array.from({ length: DIAL_CONCURRENCY }, worker))
}

export async function run({ quick }) {
  const steps = quick ? [100, 250, 500] : [100, 250, 500, 1000]
  const total = steps[steps.length - 1]
  const known = 10_000
  const server = await startServer()
  const peers = Array.from({ length: total }, (_, i) => ({ userId: `peer${i}`, identity: generateIdentity() }))
  await registerAll(server.url, peers)

  // The daemon's store knows 10,000 peers: the live ones with their real keys, the rest made up.
  const home = tempDir('p2p-bench-b5-')
  const db = openDatabase(join(home, 'p2p.db'))
  const pin = db.prepare('INSERT INTO peers (user_id, public_key, pinned_at) VALUES (?, ?, ?)')
  db.transaction(() => {
    for (const p of peers) pin.run(p.userId, toHex(p.identity.publicKey), Date.now())
    for (let i = total; i < known; i++) pin.run(`known${i}`, toHex(generateIdentity().publicKey), Date.now())
  })()
  db.close()

  const daemon = await startDaemon({
    userId: 'hub',
    serverUrl: server.url,
    home,
    // All fake peers dial from 127.0.0.1, and a handshake still counts while the daemon asks the
    // server about the peer: lift the per-address cap to the global one (64).
    env: { P2P_MAX_PENDING_PER_ADDRESS: '64' },
  })
  const status = await daemon.rpc('status')
  const rss0 = rssMb(daemon.pid)
  const points = []
  let done = 0
  let setupMs = 0
  for (const step of steps) {
    const s0 = performance.now()
    await dialRange(peers, done, step, daemon.port, status.publicKey)
    await until(async () => (await daemon.rpc('status')).peers.connected >= step, 60_000, 20)
    const stepMs = performance.now() - s0
    setupMs += stepMs
    done = step
    await sleep(200)
    points.push({
      links: step,
      elapsedMs: setupMs,
      stepMs,
      msPerLinkInStep: stepMs / (step - (points.at(-1)?.links ?? 0)),
      rssMb: rssMb(daemon.pid),
    })
  }

  // One message from each live peer; all must be acked.
  const m0 = performance.now()
  const at = Date.now()
  for (const p of peers)
    p.stream.write(Buffer.from(`${JSON.stringify({ t: 'msg', id: `m-${p.userId}-00000`, text: 'hi from a fake peer', at })}\n`))
  await until(() => peers.every((p) => p.acks >= 1), 60_000, 10)
  const roundMs = performance.now() - m0
  const final = await daemon.rpc('status')
  const rssEnd = rssMb(daemon.pid)

  for (const p of peers) p.stream?.destroy()
  await cleanup()

  const first = points[0]
  const last = points[points.length - 1]
  const timeGrowth = last.elapsedMs / first.elapsedMs / (last.links / first.links)
  const rssGrowthPerLinkFirst = (first.rssMb - rss0) / first.links
  const rssGrowthPerLinkLast = (last.rssMb - first.rssMb) / (last.links - first.links)
  return {
    id: 'B5',
    title: `one daemon, ${total} live peer links, ${known} peers known`,
    command: `node bench/b5-links.js${quick ? ' --quick' : ''}`,
    setup: `fake peers in the bench process dial with ${DIAL_CONCURRENCY} handshakes in flight; set-up = dial + Noise + hello + authorise until status shows them connected`,
    rows: [
      { metric: `set-up time for ${first.links} links (ms)`, value: first.elapsedMs },
      {
        metric: `set-up time for ${last.links} links (ms)`,
        value: last.elapsedMs,
        baseline: first.elapsedMs * (last.links / first.links),
        ratio: timeGrowth,
        goal: 'linear (ratio ~1)',
      },
      { metric: 'daemon RSS before links (MB)', value: rss0 },
      { metric: `daemon RSS at ${first.links} links (MB)`, value: first.rssMb },
      { metric: `daemon RSS at ${last.links} links (MB)`, value: last.rssMb, goal: '<= 250 MB' },
      {
        metric: 'RSS per link, first step / later steps (KB)',
        value: `${Math.round(rssGrowthPerLinkFirst * 1024)} / ${Math.round(rssGrowthPerLinkLast * 1024)}`,
        goal: 'linear',
      },
      { metric: `one message on each of ${total} links, all acked (ms)`, value: roundMs },
      { metric: 'daemon RSS after the message round (MB)', value: rssEnd },
    ],
    raw: { points, rss0, connected: final.peers.connected },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await standalone(run)
