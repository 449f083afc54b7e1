/**
 * For tests and measurements: with P2P_LOG_PACKAGES=1 in its environment, the daemon logs the
 * packages it has loaded each time it gets SIGUSR2. The idle-footprint test reads it to see that
 * an idle daemon never loaded zod (BENCHMARKS.md, B9). Without the variable nothing is installed,
 * and SIGUSR2 does what it always did.
 */
import { createRequire } from 'node:module'
import type { Logger } from 'pino'

/** Pure: the package names in a list of module file paths (require.cache's keys), sorted. */
export function packagesIn(paths: Iterable<string>): string[] {
  const names = new Set<string>()
  for (const path of paths) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(path)?.[1]
    if (name) names.add(name)
  }
  return [...names].sort()
}

export function logPackagesOnSignal(log: Logger, env: NodeJS.ProcessEnv = process.env): void {
  if (env.P2P_LOG_PACKAGES !== '1') return
  // CommonJS's module cache: the daemon's bundle require()s its packages (scripts/bundle-daemon.js).
  const { cache } = createRequire(import.meta.url)
  process.on('SIGUSR2', () => log.info({ packages: packagesIn(Object.keys(cache)) }, 'loaded packages'))
}
