export interface BackoffPolicy {
  baseMs: number
  maxMs: number
}

/**
 * Exponential backoff with jitter: the ceiling doubles per attempt up to `maxMs`, and the delay is
 * drawn from its upper half, so many daemons that lost the same server do not return in lockstep.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}
