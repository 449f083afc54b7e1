/**
 * Top functions of a .cpuprofile by self time, and with --total by inclusive time:
 * node bench/profile-top.js FILE [N] [--total]
 * With --by-area, the busy time by area of the daemon instead (each sample goes to the first
 * area found from the running function up its stack), as shares of the busy (not idle) time.
 */
import { readFileSync } from 'node:fs'

const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const n = Number(process.argv[3] ?? 30)
const inclusive = process.argv.includes('--total')
const byArea = process.argv.includes('--by-area')
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const parent = new Map()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
const keyOf = ({ callFrame }) =>
  `${callFrame.functionName || '(anon)'} ${callFrame.url.replace(/^.*node_modules\//, 'nm/').replace(/^file:\/\/.*\/(dist|bench)\//, '$1/')}:${callFrame.lineNumber + 1}`
const dt = new Map()
for (let i = 0; i < profile.samples.length; i++)
  dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0))
const time = new Map()
let total = 0
for (const [id, us] of dt) {
  total += us
  const keys = new Set()
  for (let at = id; at !== undefined; at = inclusive ? parent.get(at) : undefined) keys.add(keyOf(byId.get(at)))
  for (const key of keys) time.set(key, (time.get(key) ?? 0) + us)
}
if (byArea) {
  printAreas()
  process.exit(0)
}
const rows = [...time].sort((a, b) => b[1] - a[1]).slice(0, n)
for (const [key, us] of rows)
  console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`)

/** Areas, first match wins, tested from the running function up the stack. */
function areaOf(id) {
  const AREAS = [
    ['idle', (f) => f.functionName === '(idle)'],
    ['garbage collection', (f) => f.functionName === '(garbage collector)'],
    ['start-up (loading modules)', (f) => /modules\/(esm|cjs)|bootstrap\/realm/.test(f.url)],
    ['SQLite (statements, commits)', (f) => /better-sqlite3|daemon\/stores\//.test(f.url) || f.functionName === 'fdatasync'],
    ['Noise (secret-stream, sodium)', (f) => /secret-stream|sodium|streamx|noise/.test(f.url)],
    ['peer frames (encode, decode, split)', (f) => /peer-frame|line-splitter/.test(f.url)],
    ['control socket (JSON-RPC, zod, answers)', (f) => /control-server|control-api|control-request|send-request|\/zod\//.test(f.url)],
    [
      'outbox, inbox, messaging, links',
      (f) => /daemon\/(outbox|inbox|messaging|frame-router|link-supervisor|peer-connection|event-hub)/.test(f.url),
    ],
    ['sockets and timers (node)', (f) => /node:net|stream_base|streams\/|timers/.test(f.url) || /^write|^read/.test(f.functionName)],
    ['xstate', (f) => /xstate/.test(f.url)],
  ]
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at).callFrame
    for (const [name, test] of AREAS) if (test(frame)) return name
  }
  return 'other'
}

function printAreas() {
  const areas = new Map()
  for (const [id, us] of dt) areas.set(areaOf(id), (areas.get(areaOf(id)) ?? 0) + us)
  const idle = areas.get('idle') ?? 0
  const busy = total - idle
  console.log(`busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms`)
  for (const [name, us] of [...areas].filter(([name]) => name !== 'idle').sort((a, b) => b[1] - a[1]))
    console.log(`${((us / busy) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`)
}
