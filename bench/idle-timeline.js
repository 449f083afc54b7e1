/**
 * Where one idle `send` spends its time: alice sends bob N messages one at a time, both daemons
 * running timeline-hook.cjs; prints, per event, its median offset from alice reading the request.
 * `node bench/idle-timeline.js [N]`; `TMPDIR=/dev/shm` takes the disk out. Not part of `npm run bench`.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cleanup, percentiles, ROOT } from './lib.js'
import { clientsFor, sendRequest, startPair } from './pair.js'

const n = Number(process.argv[2] ?? 400)
const dir = mkdtempSync(join(tmpdir(), 'p2p-timeline-'))
const hook = join(ROOT, 'bench', 'timeline-hook.cjs')
const { alice, bob } = await startPair({ env: { NODE_OPTIONS: `--require ${hook}`, P2P_TIMELINE_DIR: dir } })
const [client] = await clientsFor(alice.socket, 1)
for (let i = 0; i < 100; i++) await sendRequest(client, i)
const start = Number(process.hrtime.bigint() / 1000n)
const latencies = []
for (let i = 0; i < n; i++) {
  const t0 = performance.now()
  await sendRequest(client, i)
  latencies.push(performance.now() - t0)
  // Apart, so that each send starts from idle.
  await new Promise((r) => setTimeout(r, 2))
}
client.close()
const pids = { alice: alice.pid, bob: bob.pid }
await cleanup()

const events = []
for (const [who, pid] of Object.entries(pids))
  for (const [at, what, took] of JSON.parse(readFileSync(join(dir, `${pid}.json`), 'utf8')))
    if (at >= start) events.push({ at, what: `${who} ${what}`, took })
events.sort((a, b) => a.at - b.at)

// One send: from alice reading a request to the next such read. The k-th event of a kind in
// each send is matched with the k-th of the others'.
const sends = []
for (const e of events) {
  if (e.what === 'alice read-unix') sends.push([])
  sends.at(-1)?.push(e)
}
const byEvent = new Map()
for (const send of sends) {
  const seen = new Map()
  for (const e of send) {
    const k = seen.get(e.what) ?? 0
    seen.set(e.what, k + 1)
    const key = k === 0 ? e.what : `${e.what} (${k + 1})`
    if (!byEvent.has(key)) byEvent.set(key, { at: [], took: [] })
    byEvent.get(key).at.push(e.at - send[0].at)
    if (e.took !== undefined) byEvent.get(key).took.push(e.took)
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
console.log(`${sends.length} idle sends, latency p50 ${percentiles(latencies).p50.toFixed(2)} ms`)
const rows = [...byEvent]
  .filter(([, v]) => v.at.length >= sends.length * 0.8)
  .map(([what, v]) => ({ what, at: median(v.at), took: v.took.length ? median(v.took) : undefined }))
for (const row of rows.sort((a, b) => a.at - b.at))
  console.log(`${String(row.at).padStart(6)} us  ${row.what.padEnd(28)} ${row.took !== undefined ? `took ${row.took} us` : ''}`)
process.exit(0)
