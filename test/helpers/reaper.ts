/**
 * Every process a test starts is ended when the test worker exits, whatever happened: a test that
 * fails half way (before its own stop) must not leave daemons running beside the next suite.
 */
import type { ChildProcess } from 'node:child_process'

const live = new Set<ChildProcess>()

process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/** Kills `child` with the worker if it is still running then. */
export function reapOnExit<C extends ChildProcess>(child: C): C {
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}
