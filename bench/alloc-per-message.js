/**
 * Bytes each daemon allocates per message in B1's load (4 connections x 256 sends in flight), from
 * V8's sampling heap profiler, and where: a steadier figure than msg/s on a shared machine, and
 * the one to watch for garbage-collection work. `node bench/alloc-per-message.js [TOP]`.
 * Not part of `npm run bench`.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cleanup, ROOT, until } from './lib.js'
import { clientsFor, drive, sendRequest, startPair } from './pair.js'

const top = Number(process.argv[2] ?? 12)
const dir = mkdtempSync(join(tmpdir(), 'p2p-heap-'))
const hook = join(ROOT, 'bench', 'heap-sampling-hook.cjs')
const { alice, bob } = await startPair({ env: { NODE_OPTIONS: `--require ${hook}`, P2P_HEAP_SAMPLE_DIR: dir } })
const clients = await clientsFor(alice.socket, 4)
let sends = 0
const result = await drive(clients, {
  durationMs: 3000,
  window: 256,
  request: (client, i) =>
    sendRequest(client, i).then((answer) => {
      sends++
      return answer
    }),
})
const files = { alice: join(dir, `${alice.pid}.heapprofile`), bob: join(dir, `${bob.pid}.heapprofile`) }
for (const daemon of [alice, bob]) process.kill(daemon.pid, 'SIGUSR2')
const read = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
}
await until(() => read(files.alice) && read(files.bob), 10_000)
for (const client of clients) client.close()
await cleanup()

console.log(`${Math.round(result.perSecond)} msg/s; ${sends} sends from the daemons' start (the first message and the warm-up included)`)
for (const [who, file] of Object.entries(files)) {
  const bySite = new Map()
  let total = 0
  const walk = (node) => {
    const { functionName, url, lineNumber } = node.callFrame
    const site = `${functionName || '(anonymous)'} ${url.replace(/.*\//, '')}:${lineNumber + 1}`
    total += node.selfSize
    if (node.selfSize) bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize)
    for (const child of node.children) walk(child)
  }
  walk(read(file).head)
  console.log(`${who}: ${Math.round(total / sends)} bytes allocated per message`)
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${String(Math.round(bytes / sends)).padStart(6)} B  ${site}`)
}
process.exit(0)
