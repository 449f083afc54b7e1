#!/usr/bin/env node
// `p2p msg PEER TEXT...` and `p2p daemon status` run without loading oclif (src/cli/fast-path.ts);
// everything else, and anything the fast path does not recognise exactly, goes to oclif.
const argv = process.argv.slice(2)
let code
if ((argv[0] === 'msg' || argv[0] === 'daemon') && !process.env.P2P_NO_FAST_PATH) {
  const { runFastPath } = await import('../dist/cli/fast-path.js')
  code = await runFastPath(argv)
}
if (code === undefined) {
  // oclif's execute() without its error printer: what oclif throws is reported as p2p: message.
  const { run, flush } = await import('@oclif/core')
  try {
    await run(argv, import.meta.url)
    await flush()
  } catch (error) {
    const { reportUncaught } = await import('../dist/hooks/report-uncaught.js')
    process.exitCode = reportUncaught(error, argv)
    // As a failed command does (base-command.ts): let output finish, but never hang on a handle.
    setTimeout(() => process.exit(), 2000).unref()
  }
} else {
  process.exitCode = code
}
