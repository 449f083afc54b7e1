/** The one way tests wait for a condition: poll, never sleep a fixed time. */
export interface EventuallyOptions {
  /** How long to keep trying (ms); default 15 s. */
  timeout?: number
  /** Pause between tries (ms); default 50. */
  interval?: number
}

/** Polls `check` until it returns a truthy value, which it resolves with; after `timeout`, throws the last error. */
export async function eventually<T>(check: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<NonNullable<T>> {
  const { timeout = 15_000, interval = 50 } = options
  const deadline = Date.now() + timeout
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) throw lastError ?? new Error(`condition not met within ${timeout} ms`)
    await new Promise((r) => setTimeout(r, interval))
  }
}
