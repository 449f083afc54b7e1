/**
 * B6: `seq N | p2p msg bob` end to end: one CLI process reads N lines from stdin, each one a
 * message; messages/s from spawn to exit (all delivered), beside B1's figure when run together.
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
  const lines = stdout.split('\n').filter(Boolean)
  const delivered = lines.filter((l) => l.includes('"delivered"')).length
  await until(async () => (await alice.rpc('status')).outbox.queued === 0, 120_000, 100)
  const allMs = performance.now() - t0
  await cleanup()
  if (code !== 0) throw new Error(`p2p msg exited ${code}: ${stderr.slice(0, 500)}`)
  const perSecond = n / (allMs / 1000)
  return {
    id: 'B6',
    title: `seq ${n} | p2p msg bob`,
    command,
    rows: [
      {
        metric: 'messages/s until all delivered',
        value: perSecond,
        ...(b1 ? { baseline: b1, ratio: perSecond / b1 } : {}),
        goal: '>= 0.8x B1',
      },
      { metric: 'CLI wall time (ms)', value: cliMs },
      { metric: 'answers "delivered" / total', value: `${delivered} / ${n}` },
    ],
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await standalone(run)
