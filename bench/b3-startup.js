/**
 * B3: wall time of one-shot commands, median of many spawns, beside `node -e 0`; with the
 * environment as set and without NODE_EXTRA_CA_CERTS (which adds tens of ms to every Node start
 * here). Every fast-path command on a fresh profile, and the ones a long history could slow down
 * on a profile with 100,000 stored messages. Each round runs `node -e 0` and then every command
 * once, so a baseline and its commands share whatever else the machine is doing.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { BIN, cleanup, percentiles, ROOT, standalone, startDaemon, tempDir } from './lib.js'
import { fillHistory } from './long-history.js'
import { startPair } from './pair.js'

const LONG_HISTORY = 100_000

/**
 * CPU time (user + system, ms) of this process's children reaped so far: cutime and cstime of
 * /proc/self/stat. Spawns are sequential and the daemons never exit while measured, so the change
 * across one spawn is that child's CPU. Clock ticks are 10 ms, but the kernel keeps the total
 * exact and rounds only when read, so the mean over a run is within 10 ms / runs.
 */
function childrenCpuMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')
  return (Number(fields[13]) + Number(fields[14])) * 10
}

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

/**
 * `runs` rounds after one warm-up round; returns for each command (baseline first) the percentiles
 * of its wall time and its mean CPU time. CPU time moves far less than wall time when other work
 * shares the cores.
 */
async function timeRounds(commands, env, runs) {
  const times = commands.map(() => [])
  const cpu = commands.map(() => 0)
  for (let round = 0; round <= runs; round++) {
    for (const [i, c] of commands.entries()) {
      const before = childrenCpuMs()
      const ms = await timeOnce(c.args, { ...env, ...c.env })
      if (round === 0) continue
      times[i].push(ms)
      cpu[i] += childrenCpuMs() - before
    }
  }
  return times.map((t, i) => ({ ...percentiles(t), cpuMean: cpu[i] / runs }))
}

/** The commands a profile is measured with; `home` is its profile. */
function fastCommands(home, { all }) {
  const p2p = (name, ...args) => ({ name, args: [BIN, ...args, '--home', home] })
  return [
    p2p('p2p msg bob hi', 'msg', 'bob', 'hi'),
    p2p('p2p daemon status', 'daemon', 'status'),
    p2p('p2p peers', 'peers'),
    p2p('p2p history', 'history'),
    p2p('p2p history bob', 'history', 'bob'),
    ...(all
      ? [
          p2p('p2p block carol (already blocked)', 'block', 'carol'),
          p2p('p2p unmute carol (not muted)', 'unmute', 'carol'),
          p2p('p2p discover', 'discover'),
          { ...p2p('p2p daemon status through oclif (P2P_NO_FAST_PATH=1)', 'daemon', 'status'), env: { P2P_NO_FAST_PATH: '1' } },
        ]
      : []),
  ]
}

export async function run({ quick }) {
  const runs = quick ? 15 : 30
  const { server, alice } = await startPair({ peerRate: '0' })
  const longHome = tempDir('p2p-bench-long-')
  const t0 = performance.now()
  fillHistory(longHome, { peer: 'bob', messages: LONG_HISTORY })
  const fillMs = performance.now() - t0
  const dana = await startDaemon({ userId: 'dana', serverUrl: server.url, home: longHome })
  const withCa = { ...process.env }
  const withoutCa = { ...process.env }
  delete withoutCa.NODE_EXTRA_CA_CERTS
  const profiles = [
    ['fresh profile', fastCommands(alice.home, { all: true })],
    [`${LONG_HISTORY.toLocaleString('en-US')} messages`, fastCommands(dana.home, { all: false })],
  ]
  const rows = []
  const raw = {}
  for (const [label, env] of [
    ['env as set', withCa],
    ['without NODE_EXTRA_CA_CERTS', withoutCa],
  ]) {
    if (label === 'env as set' && !process.env.NODE_EXTRA_CA_CERTS) continue
    for (const [profile, commands] of profiles) {
      const [base, ...timed] = await timeRounds([{ name: 'node -e 0', args: ['-e', '0'] }, ...commands], env, runs)
      raw[`node -e 0 (${label}, ${profile})`] = base
      rows.push({ metric: `node -e 0 (${label}, ${profile} round) median ms`, value: base.p50, cpu: base.cpuMean })
      for (const [i, c] of commands.entries()) {
        const t = timed[i]
        raw[`${c.name} (${label}, ${profile})`] = t
        rows.push({
          metric: `${c.name} (${label}, ${profile}) median ms`,
          value: t.p50,
          baseline: base.p50,
          ratio: t.p50 / base.p50,
          goal: c.env ? 'report' : '<= 1.5x',
          p90: t.p90,
          cpu: t.cpuMean,
          cpuRatio: t.cpuMean / base.cpuMean,
        })
      }
    }
  }
  await cleanup()
  return {
    id: 'B3',
    title: 'one-shot command wall time (median of spawns)',
    command: `node bench/b3-startup.js${quick ? ' --quick' : ''}`,
    setup: `${runs} rounds after one warm-up round, sequential, each round node -e 0 then every command once (wall median, and mean CPU time of the process: cpu, cpuRatio), against running daemons with a live link to bob; the long profile's ${LONG_HISTORY.toLocaleString('en-US')} messages were written through the store code in ${Math.round(fillMs)} ms before its daemon started`,
    rows,
    raw,
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await standalone(run)
