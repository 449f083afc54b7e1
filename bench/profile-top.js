/**
 * Top functions of a .cpuprofile by self time, and with --total by inclusive time:
 * node bench/profile-top.js FILE [N] [--total]
 */
import { readFileSync } from 'node:fs'

const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const n = Number(process.argv[3] ?? 30)
const inclusive = process.argv.includes('--total')
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
const rows = [...time].sort((a, b) => b[1] - a[1]).slice(0, n)
for (const [key, us] of rows)
  console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`)
