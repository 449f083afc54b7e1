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
  const { execute } = await import('@oclif/core')
  await execute({ dir: import.meta.url })
} else {
  process.exitCode = code
}
