/**
 * Dialing a peer by several paths at once (SPEC section 9): each attempt starts after its own
 * delay unless another has already won (or at once when one fails before its delay is up); the
 * first to finish its handshake wins and the others are
 * aborted (an attempt that completes anyway closes what it made, see PeerDialer). When every
 * attempt fails, the race fails with the first attempt's error: the direct one, usually the most
 * telling.
 */

export interface DialAttempt<T> {
  /** Started this many ms after the race, if no attempt has won by then. */
  afterMs: number
  run(signal: AbortSignal): Promise<T>
}

export function raceDials<T>(attempts: DialAttempt<T>[], signal: AbortSignal): Promise<T> {
  if (attempts.length === 0) return Promise.reject(new Error('no way to reach this peer'))
  return new Promise((resolve, reject) => {
    const controllers = attempts.map(() => new AbortController())
    const timers: NodeJS.Timeout[] = []
    const errors: unknown[] = new Array(attempts.length)
    let failed = 0
    let settled = false
    // The winner's signal stays as it is: its socket was opened with it, and aborting would close it.
    const finish = (winner = -1) => {
      settled = true
      for (const timer of timers) clearTimeout(timer)
      controllers.forEach((controller, i) => {
        if (i !== winner) controller.abort(new Error('another path won'))
      })
      signal.removeEventListener('abort', onAbort)
    }
    const onAbort = () => {
      if (settled) return
      finish()
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    const fail = (i: number, error: unknown) => {
      errors[i] = error
      failed++
      if (settled) return
      // No point waiting out the delay of a path that was only meant to back up this one.
      if (failed < attempts.length) {
        for (const timer of timers) clearTimeout(timer)
        for (const begin of starts) begin()
        return
      }
      finish()
      reject(errors.find((e) => e !== undefined))
    }
    const starts: Array<() => void> = []
    attempts.forEach((attempt, i) => {
      let started = false
      const start = () => {
        if (settled || started) return
        started = true
        attempt.run(controllers[i]!.signal).then(
          (value) => {
            if (settled) return
            finish(i)
            resolve(value)
          },
          (error: unknown) => fail(i, error),
        )
      }
      starts.push(start)
      if (attempt.afterMs <= 0) start()
      else timers.push(setTimeout(start, attempt.afterMs))
    })
  })
}
