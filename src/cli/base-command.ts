/**
 * What every `p2p` command shares (the Heroku/sf pattern): `--json` and `--home` on every command,
 * a lazily opened daemon connection, and one `catch()` that turns any failure into the documented
 * exit code and, with `--json`, into `{"error":{"code","message"}}` on stdout and nothing else.
 *
 * Two seams let a test run a command's `run()` in process: `createClient()` (every daemon
 * connection comes from it) and `exitAfterError()` (the one place a failure ends the process).
 */
import { Command, Errors, Flags, type Interfaces } from '@oclif/core'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { type ProfilePaths, profilePaths, resolveHome } from '../protocol/profile.js'
import { ControlClient, type DaemonClient } from './control-client.js'
import { ExitCode } from './exit-codes.js'
import { type Palette, paletteFor } from './format.js'
import { describeFailure, notRespondingMessage, notRunningMessage, reportError, writeJson } from './report.js'

// oclif's own FlagOutput/ArgOutput, which its package does not export.
type AnyOutput = { [name: string]: unknown }

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    home: Flags.string({
      description: 'profile directory (default: $P2P_HOME, else $XDG_DATA_HOME/p2p, else ~/.local/share/p2p)',
      helpGroup: 'GLOBAL',
    }),
  }

  private homeFlag: string | undefined
  private client: DaemonClient | undefined
  private readonly extraClients: DaemonClient[] = []

  /** The profile directory this invocation works on. */
  protected get home(): string {
    return resolveHome(this.homeFlag)
  }

  protected get paths(): ProfilePaths {
    return profilePaths(this.home)
  }

  /** The daemon's control connection, opened on first use (commands that never call it pay nothing). */
  protected get daemon(): DaemonClient {
    this.client ??= this.createClient()
    return this.client
  }

  /** Another connection to the daemon (a subscription needs one of its own), closed when the command ends. */
  protected newDaemonClient(): DaemonClient {
    const client = this.createClient()
    this.extraClients.push(client)
    return client
  }

  /** Every connection to the daemon is made here; it connects on its first call. */
  protected createClient(): DaemonClient {
    return new ControlClient(this.paths.socket, {
      notRunningMessage: this.notRunningMessage(),
      notRespondingMessage: notRespondingMessage(this.home, this.homeFlag !== undefined),
    })
  }

  protected notRunningMessage(): string {
    return notRunningMessage(this.home, this.homeFlag !== undefined)
  }

  /** `daemon status --json` reports "not running" as a status document ({running:false, error}). */
  protected readonly reportsStatus: boolean = false

  protected get colors(): Palette {
    return paletteFor(process.stdout)
  }

  /** Remembers --home as a side effect of the usual `this.parse(Cmd)`; the result keeps its types. */
  protected override async parse<F extends AnyOutput, B extends AnyOutput, A extends AnyOutput>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const result = await super.parse(options, argv)
    this.homeFlag = (result.flags as { home?: string }).home
    return result
  }

  protected override logJson(json: unknown): void {
    writeJson(json)
  }

  /** A JSON line of a stream (msg from stdin, watch). */
  protected jsonLine(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value)}\n`)
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<void> {
    // `this.exit(n)` arrives here as an ExitError: it is a decision, not a failure.
    if (err instanceof Errors.ExitError) throw err
    // A failed parse was still a parse: keeps oclif from warning "did you forget to call this.parse".
    this.parsed = true
    const { code, message } = describeError(err, this.id)
    this.exitAfterError(reportError(code, message, { json: this.jsonEnabled(), statusDocument: this.reportsStatus }))
  }

  /**
   * Ending by exitCode rather than process.exit lets pending output and async loggers (a daemon
   * that failed to start) finish; the unref'd timer only fires if some handle would keep us alive.
   */
  protected exitAfterError(exitCode: number): void {
    process.exitCode = exitCode
    setTimeout(() => process.exit(), 2000).unref()
  }

  protected override async finally(error: Error | undefined): Promise<void> {
    this.client?.close()
    for (const client of this.extraClients) client.close()
    return super.finally(error)
  }
}

/** The stable code and a one-line message of any error a command can meet. */
export function describeError(err: unknown, commandId?: string): { code: string; message: string } {
  if (err instanceof P2PError) return { code: err.code, message: unwrapFlagError(err.message) }
  // oclif's parse errors (unknown flag, missing argument, bad value) all exit 2: usage.
  if (err instanceof Errors.CLIError && (err.oclif?.exit ?? ExitCode.Usage) === ExitCode.Usage) {
    const lines = unwrapFlagError(err.message)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('See more help'))
    const help = commandId ? ` (see: p2p ${commandId.replaceAll(':', ' ')} --help)` : ''
    return { code: ErrorCode.Usage, message: `${lines.join(' ')}${help}` }
  }
  return describeFailure(err)
}

/**
 * oclif rewrites the error of a flag's own parser (flags.ts) to "Parsing --flag \n\t<message>\nSee
 * more help with --help"; on one line that reads "--flag <message>".
 */
function unwrapFlagError(message: string): string {
  const wrapped = /^Parsing (--\S+) \n\t([\s\S]*)\nSee more help with --help$/.exec(message)
  return wrapped ? `${wrapped[1]} ${wrapped[2]}` : message
}
