/**
 * B1: acknowledged messages per second from alice to bob through alice's control socket (JSON-RPC
 * `send` with a timeout, so every answer "delivered" means bob stored and acked it and alice's
 * outbox marked it delivered), pipelined on a few connections; beside raw Node TCP JSON lines
 * to an ack-ing child process, driven the same way.
 */
import { cleanup, cpuMs, standalone, until } from './lib.js'
import { clientsFor, drive, sendRequest, startPair, startRawEcho } from './pair.js'

export async function run({ quick }) {
  const durationMs = quick ? 4000 : 10_000
  const connections = 4
  const window = 256
  const opts = { durationMs, window, request: sendRequest }

  const raw = await startRawEcho()
  const rawClients = await clientsFor({ host: '127.0.0.1', port: raw.port }, connections)
  const rawResult = await drive(rawClients, opts)
  for (const c of rawClients) c.close()

  const results = {}
  for (const peerRate of quick ? ['0'] : ['0', 'default']) {
    const { alice, bob } = await startPair({ peerRate: peerRate === 'default' ? '' : peerRate })
    const clients = await clientsFor(alice.socket, connections)
    // CPU per message of each daemon: unlike msg/s, it hardly moves when other work shares the cores.
    const cpu = { alice: 0, bob: 0 }
    const onMeasure = (phase) => {
      const sign = phase === 'start' ? -1 : 1
      cpu.alice += sign * cpuMs(alice.pid)
      cpu.bob += sign * cpuMs(bob.pid)
    }
    const result = await drive(clients, { ...opts, onMeasure })
    result.cpuUsPerMessage = { alice: (cpu.alice * 1000) / result.delivered, bob: (cpu.bob * 1000) / result.delivered }
    results[peerRate] = result
    for (const c of clients) c.close()
    await until(async () => (await alice.rpc('status')).outbox.queued === 0, 30_000)
    await cleanup()
  }
  await cleanup()
  const p2p = results['0']
  return {
    id: 'B1',
    title: 'throughput alice -> bob, acked messages of ~100 bytes via JSON-RPC send',
    command: `node bench/b1-throughput.js${quick ? ' --quick' : ''}`,
    setup: `${connections} control connections x ${window} outstanding sends, ${durationMs / 1000} s measured after 1 s warm-up; P2P_PEER_RATE=0`,
    rows: [
      {
        metric: 'p2p msg/s (P2P_PEER_RATE=0)',
        value: p2p.perSecond,
        baseline: rawResult.perSecond,
        ratio: p2p.perSecond / rawResult.perSecond,
        goal: '>= 0.5x',
      },
      ...(results.default
        ? [
            {
              metric: 'p2p msg/s (default P2P_PEER_RATE=20000)',
              value: results.default.perSecond,
              baseline: rawResult.perSecond,
              ratio: results.default.perSecond / rawResult.perSecond,
              goal: 'report',
            },
          ]
        : []),
      { metric: 'raw TCP JSON lines msg/s (baseline)', value: rawResult.perSecond },
      { metric: 'CPU per message, alice (sender) us', value: p2p.cpuUsPerMessage.alice },
      { metric: 'CPU per message, bob (receiver) us', value: p2p.cpuUsPerMessage.bob },
    ],
    raw: { p2p: results, baseline: rawResult },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await standalone(run)
