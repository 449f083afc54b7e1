/**
 * Node/V8 flags of the daemon's process, given by whoever spawns it (`daemon start`, through
 * daemon-launcher.ts; the benchmarks, as users get it). No imports: the CLI reads this.
 *
 * --max-semi-space-size=1: V8's young generation grows to 16 MB per semi-space while the daemon
 * starts and keeps about 10 MB of it resident ever after, in a process whose idle goal is 1.5x a
 * bare node (BENCHMARKS.md, B9). Capped at 1 MB, the idle daemon held about 8 MB less; its
 * price in B1 (more frequent scavenges) is measured there too.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1']
