/**
 * Runs a command class's `run()` in this process (sf's unit-test style): the daemon connection is
 * the client the test hands in, through BaseCommand.createClient(); output and the exit code are
 * captured instead of written and ended with.
 */
import { format } from 'node:util'
import { Config, Errors } from '@oclif/core'
import { vi } from 'vitest'
import type { BaseCommand } from '../../src/cli/base-command.js'
import type { DaemonClient } from '../../src/cli/control-client.js'
import { REPO_ROOT } from './server.js'

export interface InProcessRun<R> {
  /** What run() returned (undefined after a failure). */
  result: R | undefined
  exitCode: number
  stdout: string
  stderr: string
}

type Runnable = { run(argv: string[], config: Config): Promise<unknown> }
type CommandClass<R> = (abstract new (argv: string[], config: Config) => BaseCommand & { run(): Promise<R> }) & { id?: string }

let config: Promise<Config> | undefined

export async function runInProcess<R>(Cmd: CommandClass<R>, argv: string[], client: DaemonClient): Promise<InProcessRun<R>> {
  let exitCode = 0
  // Abstract only for the compiler: the class it extends is the concrete command.
  abstract class InProcess extends (Cmd as unknown as new (argv: string[], config: Config) => BaseCommand) {
    static id = Cmd.id ?? Cmd.name.toLowerCase()
    protected override createClient(): DaemonClient {
      return client
    }
    protected override exitAfterError(code: number): void {
      exitCode = code
    }
  }
  const output = captureOutput()
  try {
    config ??= Config.load(REPO_ROOT)
    // Command.run as oclif calls it: parse, run, catch, finally, then the --json document.
    const result = (await (InProcess as unknown as Runnable).run(argv, await config)) as R | undefined
    return { result, exitCode, ...output.text() }
  } catch (error) {
    // this.exit(n): a decision, not a failure.
    if (error instanceof Errors.ExitError) return { result: undefined, exitCode: error.oclif.exit ?? 0, ...output.text() }
    throw error
  } finally {
    output.restore()
  }
}

/** Commands write through process.stdout (JSON) and console (oclif's log): both are taken here. */
function captureOutput() {
  let stdout = ''
  let stderr = ''
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown) => {
      stdout += String(chunk)
      return true
    }) as never),
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: unknown) => {
      stderr += String(chunk)
      return true
    }) as never),
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      stdout += `${format(...args)}\n`
    }),
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      stderr += `${format(...args)}\n`
    }),
  ]
  return {
    text: () => ({ stdout, stderr }),
    restore: () => {
      for (const spy of spies) spy.mockRestore()
    },
  }
}
