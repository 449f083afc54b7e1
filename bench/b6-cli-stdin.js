/**
 * B6: `seq N | p2p msg bob` end to end: one CLI process reads N lines from stdin, each one a
 * message; messages/s from spawn until alice's outbox is empty (all delivered), beside B1's figure
 * when run together. Run twice on the same daemons: fresh, then warm.
 */
import { spawn } from 'node:child_process'
import { BIN, cleanup, hasCommand, ROOT, standalone, until } from './lib.js'
import { startPair } from './pair.js'

export async function run({ quick, b1 }) {
  const n = quick ? 20_000 : 100_000
  const command = `node bench/b6-cli-stdin.js${quick ? ' --quick' : ''}`
  if (!hasCommand('msg')) {
    return { id: 'B6', title: `seq ${n} | p2p msg bob`, command, rows: [{ metric: 'messages/s', value: 'p2p msg not on this branch yet' }] }
  }
  const { alice } = await startPair({ peerRate: '0' })
  // Twice on the same daemons: first fresh (V8 still compiling their hot paths), then warm, as B1
  // is measured (after its 1 s warm-up). The warm run carries the goal; the fresh one is reported.
  const fresh = await pipeline(alice, n)
  const warm = await pipeline(alice, n)
  await cleanup()
  return {
    id: 'B6',
    title: `seq ${n} | p2p msg bob`,
    command,
    setup: `the same ${n} lines twice on one daemon pair: fresh daemons, then warm ones (B1 measures after a 1 s warm-up)`,
    rows: [
      {
        metric: 'messages/s until all delivered, warm daemons',
        value: warm.perSecond,
        ...(b1 ? { baseline: b1, ratio: warm.perSecond / b1 } : {}),
        goal: '>= 0.8x B1',
      },
      {
        metric: 'messages/s until all delivered, fresh daemons',
        value: fresh.perSecond,
        ...(b1 ? { baseline: b1, ratio: fresh.perSecond / b1 } : {}),
        goal: 'report',
      },
      { metric: 'CLI wall time, warm / fresh (ms)', value: `${Math.round(warm.cliMs)} / ${Math.round(fresh.cliMs)}` },
      { metric: 'answers "delivered" / total, warm and fresh', value: `${warm.delivered + fresh.delivered} / ${2 * n}` },
    ],
  }
}

/** `seq n | p2p msg bob --json` against alice: msg/s from spawn until her outbox is empty. */
async function pipeline(alice, n) {
  const t0 = performance.now()
  const { code, stdout, stderr } = await new Promise((resolve, reject) => {
    const child = spawn(`seq ${n} | "${process.execPath}" "${BIN}" msg bob --json --home "${alice.home}"`, {
      shell: true,
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (s) => (out += s))
    child.stderr.setEncoding('utf8').on('data', (s) => (err += s))
    child.on('error', reject)
    child.on('exit', (c) => resolve({ code: c, stdout: out, stderr: err }))
  })
  const cliMs = performance.now() - t0
  if (code !== 0) throw new Error(`p2p msg exited ${code}: ${stderr.slice(0, 500)}`)
  const delivered = stdout.split('\n').filter((l) => l.includes('"delivered"')).length
  await until(async () => (await alice.rpc('status')).outbox.queued === 0, 120_000, 100)
  return { perSecond: n / ((performance.now() - t0) / 1000), cliMs, delivered }
}

if (import.meta.url === `file://${process.argv[1]}`) await standalone(run)
