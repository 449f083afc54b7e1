/**
 * Every process a test starts is ended when the test worker exits, whatever happened: a test that
 * fails half way (before its own stop) must not leave daemons running beside the next suite.
 *
 * 'exit' alone is not enough: a worker ended by a signal (the runner's SIGTERM at teardown, Ctrl-C)
 * never emits it, and its daemons would live on, adopted by init. So the usual signals reap too,
 * then end the worker as the signal would have.
 */
import type { ChildProcess } from 'node:child_process'
import { constants } from 'node:os'

const live = new Set<ChildProcess>()

function reapAll(): void {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
}

process.once('exit', reapAll)
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    reapAll()
    process.exit(128 + constants.signals[signal])
  })
}

/** Kills `child` with the worker if it is still running then. */
export function reapOnExit<C extends ChildProcess>(child: C): C {
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}
