#!/usr/bin/env node
// CommonJS on purpose (bin/package.json): an ES module entry point costs a one-shot command about
// a tenth of its start-up (BENCHMARKS.md, B3). The one-shot commands scripts run most (`msg PEER
// TEXT...`, `daemon status`, `peers`, `history`, `block`...) run from one bundled file without
// loading oclif (src/cli/fast-path.ts, bundled by scripts/bundle-fast-path.js); everything else,
// and anything the fast path does not recognise exactly, goes to oclif. So does `daemon run`.
const { join } = require('node:path')

async function main(argv) {
  // The daemon runs all day: not oclif for five flags (src/cli/daemon-run-path.ts), and one
  // CommonJS file rather than ES modules (scripts/bundle-daemon.js): both cost it memory.
  if (argv[0] === 'daemon' && argv[1] === 'run' && !process.env.P2P_NO_FAST_PATH) {
    const code = await require('../dist/daemon/run.bundle.cjs').runDaemonPath(argv.slice(2))
    if (code !== undefined) {
      process.exitCode = code
      return
    }
  }
  if (argv.length > 0 && !process.env.P2P_NO_FAST_PATH) {
    const code = await require('../dist/fast-path.bundle.cjs').runFastPath(argv)
    if (code !== undefined) {
      process.exitCode = code
      return
    }
  }
  // oclif's execute() without its error printer: what oclif throws is reported as p2p: message.
  const { run, flush } = require('@oclif/core')
  try {
    // The package root, named outright: from bin/ oclif would take bin/package.json for it.
    await run(argv, join(__dirname, '..'))
    await flush()
  } catch (error) {
    const { reportUncaught } = await import('../dist/hooks/report-uncaught.js')
    process.exitCode = reportUncaught(error, argv)
    // As a failed command does (base-command.ts): let output finish, but never hang on a handle.
    setTimeout(() => process.exit(), 2000).unref()
  }
}

main(process.argv.slice(2))
