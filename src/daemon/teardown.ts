/**
 * The daemon's way down: every piece that starts pushes how to stop it, and stopping runs the
 * steps last-in, first-out, so each piece stops before what it depends on (unregister before the
 * links close, the last writes flushed before the database closes). A start that fails half way
 * runs the same stack, so nothing it opened is left behind.
 */
export type TeardownStep = () => unknown

export class Teardown {
  private readonly steps: Array<{ name: string; run: TeardownStep }> = []
  private running: Promise<void> | undefined

  constructor(private readonly onError: (name: string, error: unknown) => void = () => {}) {}

  push(name: string, run: TeardownStep): void {
    this.steps.push({ name, run })
  }

  /** Runs every step once, newest first; a step that fails is reported and the rest still run. */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (let step = this.steps.pop(); step; step = this.steps.pop()) {
        try {
          await step.run()
        } catch (error) {
          this.onError(step.name, error)
        }
      }
    })()
    return this.running
  }

  /** Names of the steps still to run, newest first. */
  pending(): string[] {
    return this.steps.map((s) => s.name).reverse()
  }
}
