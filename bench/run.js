/**
 * `npm run bench` (after the build): runs the benchmarks one after another and prints a Markdown report;
 * also writes it to bench/results/last.md (and .json). `--quick` for a run of about a minute;
 * `--only B1,B2` to pick. Never part of CI; it never fails a build.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanup, fmt, machine, QUICK, ROOT } from './lib.js'

const benches = {
  B1: './b1-throughput.js',
  B2: './b2-latency.js',
  B3: './b3-startup.js',
  B4: './b4-discovery.js',
  B4W: './b4-wrk.js',
  B5: './b5-links.js',
  B6: './b6-cli-stdin.js',
  B7: './b7-relay.js',
  B8: './b8-mailbox.js',
  B9: './b9-idle.js',
  B10: './b10-offline-queue.js',
}
const onlyArg = process.argv.find((a) => a.startsWith('--only'))
const only = onlyArg ? (onlyArg.split('=')[1] ?? process.argv[process.argv.indexOf(onlyArg) + 1]).split(',') : Object.keys(benches)

process.once('SIGINT', async () => {
  await cleanup()
  process.exit(130)
})

const m = machine()
const results = []
let b1
for (const id of only) {
  const started = performance.now()
  process.stderr.write(`${id}...`)
  try {
    const { run } = await import(benches[id])
    const result = await run({ quick: QUICK, b1 })
    if (id === 'B1') b1 = result.rows[0].value
    result.seconds = (performance.now() - started) / 1000
    results.push(result)
    process.stderr.write(` ${Math.round(result.seconds)} s\n`)
  } catch (error) {
    process.stderr.write(` failed: ${error.stack}\n`)
    results.push({ id, title: 'failed', rows: [{ metric: 'error', value: String(error.message).split('\n')[0] }] })
  } finally {
    await cleanup()
  }
}

const lines = [
  `Run ${m.date} on ${m.cores} cores (${m.cpu}), ${m.memoryGb} GB, Node ${m.node}, NODE_EXTRA_CA_CERTS ${m.extraCaCerts}; \`node bench/run.js${QUICK ? ' --quick' : ''}\``,
  '',
]
for (const r of results) {
  lines.push(`### ${r.id}: ${r.title}`, '', `Command: \`${r.command ?? ''}\`${r.setup ? `. ${r.setup}` : ''}`, '')
  lines.push('| metric | value | baseline (same run) | ratio | goal |', '|---|---|---|---|---|')
  for (const row of r.rows) {
    const extra = row.p99ms !== undefined ? ` (p99 ${row.p99ms} ms${row.non2xx ? `, ${row.non2xx} non-2xx` : ''})` : ''
    lines.push(
      `| ${row.metric} | ${fmt(row.value)}${extra} | ${row.baseline !== undefined ? fmt(row.baseline) : ''} | ${row.ratio !== undefined ? `${fmt(row.ratio)}x` : ''} | ${row.goal ?? ''} |`,
    )
  }
  lines.push('')
}
const report = lines.join('\n')
console.log(report)
const dir = join(ROOT, 'bench', 'results')
mkdirSync(dir, { recursive: true })
writeFileSync(join(dir, 'last.md'), report)
writeFileSync(join(dir, 'last.json'), JSON.stringify({ machine: m, quick: QUICK, results }, null, 2))
// Load generators (autocannon, fake peers) may leave handles behind; the report is written.
process.exit(0)
