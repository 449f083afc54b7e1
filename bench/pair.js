/**
 * What B1, B2 and B6 share: a discovery server and two daemons (alice sends to bob) with a live
 * link between them, the raw TCP baseline process, and a closed-loop load driver.
 */
import { join } from 'node:path'
import { payload, ROOT, RpcClient, spawnUntil, startDaemon, startServer } from './lib.js'

/** Server + alice + bob; the first message brings the link up. `peerRate` '0' = no inbound limit. */
export async function startPair({ peerRate = '0', env = {} } = {}) {
  const server = await startServer()
  const daemonEnv = { P2P_PEER_RATE: peerRate, ...env }
  const [alice, bob] = await Promise.all([
    startDaemon({ userId: 'alice', serverUrl: server.url, env: daemonEnv }),
    startDaemon({ userId: 'bob', serverUrl: server.url, env: daemonEnv }),
  ])
  const first = await alice.rpc('send', { to: 'bob', text: 'hello', timeout: 10 })
  if (first.status !== 'delivered') throw new Error(`first message was ${first.status}`)
  return { server, alice, bob }
}

export async function startRawEcho() {
  const started = await spawnUntil([join(ROOT, 'bench', 'raw-echo.js')], { pattern: /listening (\d+)/ })
  return { port: Number(started.match[1]), pid: started.child.pid, stop: started.stop }
}

/** B2's floor (raw-durable-pair.js): the same hops and group-committed fdatasyncs in bare Node. */
export async function startDurableFloor() {
  const started = await spawnUntil([join(ROOT, 'bench', 'raw-durable-pair.js')], { pattern: /listening (\S+)\n/ })
  return { socket: started.match[1], pid: started.child.pid, stop: started.stop }
}

/**
 * Closed loop: each client keeps `window` requests outstanding for `durationMs` after `warmupMs`;
 * counts answers with status delivered inside the measured interval; `onMeasure('start' | 'stop')`
 * is told when that interval begins and ends.
 */
export async function drive(clients, { durationMs, warmupMs = 1000, window, request, onMeasure = () => {} }) {
  let measuring = false
  let stopped = false
  let delivered = 0
  let other = 0
  let seq = 0
  let inFlight = 0
  let drained = () => {}
  const launch = (client) => {
    inFlight++
    request(client, seq++).then((response) => {
      inFlight--
      if (measuring) {
        if (response.result?.status === 'delivered') delivered++
        else other++
      }
      if (!stopped) launch(client)
      else if (inFlight === 0) drained()
    })
  }
  for (const client of clients) for (let i = 0; i < window; i++) launch(client)
  await new Promise((r) => setTimeout(r, warmupMs))
  measuring = true
  onMeasure('start')
  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, durationMs))
  measuring = false
  onMeasure('stop')
  const seconds = (performance.now() - t0) / 1000
  stopped = true
  await new Promise((r) => {
    drained = r
    if (inFlight === 0) r()
  })
  return { perSecond: delivered / seconds, delivered, other, seconds }
}

export const sendRequest = (client, i) => client.request('send', { to: 'bob', text: payload(i), timeout: 30 })

export async function clientsFor(target, n) {
  const clients = Array.from({ length: n }, () => new RpcClient(target))
  await Promise.all(clients.map((c) => c.ready()))
  return clients
}
