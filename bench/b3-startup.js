/**
 * B3: wall time of one-shot commands, `p2p msg bob hi` and `p2p daemon status`, median of many
 * spawns, beside `node -e 0`; with the environment as set and without NODE_EXTRA_CA_CERTS (which
 * adds tens of ms to every Node start here).
 */
import { spawn } from 'node:child_process'
import { BIN, cleanup, hasCommand, percentiles, ROOT, standalone } from './lib.js'
import { startPair } from './pair.js'

function timeOnce(args, env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.on('exit', (code) => {
      const ms = performance.now() - t0
      if (code !== 0) reject(new Error(`${args.join(' ')} exited ${code}: ${err}`))
      else resolve(ms)
    })
  })
}

async function timeMany(args, env, runs) {
  await timeOnce(args, env) // warm the file cache
  const times = []
  for (let i = 0; i < runs; i++) times.push(await timeOnce(args, env))
  return percentiles(times)
}

export async function run({ quick }) {
  const runs = quick ? 20 : 40
  const { alice } = await startPair({ peerRate: '0' })
  const withCa = { ...process.env }
  const withoutCa = { ...process.env }
  delete withoutCa.NODE_EXTRA_CA_CERTS
  const commands = [
    { name: 'p2p msg bob hi', cmd: 'msg', args: [BIN, 'msg', 'bob', 'hi', '--home', alice.home] },
    { name: 'p2p daemon status', cmd: 'daemon status', args: [BIN, 'daemon', 'status', '--home', alice.home] },
  ]
  const rows = []
  const raw = {}
  for (const [label, env] of [
    ['env as set', withCa],
    ['without NODE_EXTRA_CA_CERTS', withoutCa],
  ]) {
    if (label === 'env as set' && !process.env.NODE_EXTRA_CA_CERTS) continue
    const base = await timeMany(['-e', '0'], env, runs)
    raw[`node -e 0 (${label})`] = base
    rows.push({ metric: `node -e 0 (${label}) median ms`, value: base.p50 })
    for (const c of commands) {
      if (!hasCommand(c.cmd)) {
        rows.push({ metric: `${c.name} (${label})`, value: 'not on this branch yet', goal: '<= 1.5x' })
        continue
      }
      const t = await timeMany(c.args, env, runs)
      raw[`${c.name} (${label})`] = t
      rows.push({
        metric: `${c.name} (${label}) median ms`,
        value: t.p50,
        baseline: base.p50,
        ratio: t.p50 / base.p50,
        goal: '<= 1.5x',
        p90: t.p90,
      })
    }
  }
  await cleanup()
  return {
    id: 'B3',
    title: 'one-shot command wall time (median of spawns)',
    command: `node bench/b3-startup.js${quick ? ' --quick' : ''}`,
    setup: `${runs} runs each after one warm-up, sequential, against a running daemon with a live link to bob`,
    rows,
    raw,
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await standalone(run)
