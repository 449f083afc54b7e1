/**
 * One-shot runs of the built `p2p` binary with raw bytes on stdin (the shared `p2p()` helper only
 * takes strings, which cannot hold invalid UTF-8), and what the terminal tests need.
 */
import { spawnSync } from 'node:child_process'
import { spawnCli } from '../helpers/daemon.js'

export { type LiveCli, spawnCli } from '../helpers/daemon.js'

/** A one-shot run with `input` as raw bytes on stdin. */
export async function runWithBytes(args: string[], input: Buffer, home: string) {
  const cli = spawnCli(args, { home })
  cli.child.stdin.end(input)
  const code = await cli.exited
  return { code, stdout: cli.stdout(), stderr: cli.stderr() }
}

export function hasTmux(): boolean {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0
}

export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}
