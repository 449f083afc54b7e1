/**
 * The `p2p chat` REPL (modelled on Heroku's `repl`): node:readline, commands run one at a time in
 * the order typed, incoming messages from a subscription on a second connection printed above
 * the prompt without disturbing what is being typed. Every line's failure is caught and shown;
 * only the daemon going away ends the session.
 *
 * When stdin is not a terminal the same loop reads commands line by line, prints plain results,
 * and ends at end of input once everything typed has been done.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { clearScreenDown, createInterface, cursorTo, type Interface, moveCursor } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { ErrorCode } from '../../protocol/errors.js'
import type { MessageEvent, MuteEndedEvent } from '../../protocol/rpc.js'
import { describeError } from '../base-command.js'
import { type DaemonClient, onDaemonEvent } from '../control-client.js'
import { clock, messageLine, type Palette, sanitize } from '../format.js'
import { historyLine, peersTable, policyLine, statusLines, trustLine } from '../render.js'
import { checkText, durationSeconds, peerId } from '../validate.js'
import { type ChatCommandSpec, complete, helpText, parseLine } from './commands.js'

const HISTORY_LINES = 500

export interface ChatOptions {
  /** Requests (send, block, ...). */
  client: DaemonClient
  /** The subscription: its own connection, so a long reply never delays a message. */
  events: DaemonClient
  me: string
  query?: string
  input: Readable
  output: Writable
  interactive: boolean
  palette: Palette
  /** JSON lines instead of text: {type:"message"|"result"|"error"|"info", ...}. */
  json: boolean
  /** Where typed lines are remembered between sessions (interactive only). */
  historyFile?: string
}

/** Runs until /exit, Ctrl-C on an empty line, Ctrl-D or end of input; resolves with the exit code. */
export function runChat(options: ChatOptions): Promise<number> {
  return new ChatSession(options).run()
}

class ChatSession {
  private query: string | undefined
  private readonly knownPeers: Set<string>
  private readonly rl: Interface
  private readonly c: Palette
  private closed = false
  private exiting = false
  private daemonGone = false

  constructor(private readonly options: ChatOptions) {
    this.query = options.query
    this.knownPeers = new Set(options.query ? [options.query] : [])
    this.c = options.palette
    const { input, output, interactive } = options
    this.rl = createInterface({
      input,
      output,
      terminal: interactive,
      prompt: this.promptText(),
      historySize: interactive ? HISTORY_LINES : 0,
      removeHistoryDuplicates: true,
      history: interactive ? loadHistory(options.historyFile) : [],
      ...(interactive ? { completer: (line: string) => complete(line, [...this.knownPeers].sort()) } : {}),
    })
  }

  run(): Promise<number> {
    const { rl, options } = this
    onDaemonEvent(options.events, (event) => (event.type === 'message' ? this.showMessage(event) : this.showNotice(event)))
    return new Promise<number>((resolve) => {
      // One command at a time, in the order typed; the prompt stays live meanwhile.
      let queue = Promise.resolve()
      rl.on('line', (line) => {
        queue = queue.then(() => this.handle(line))
        if (options.interactive) rl.prompt()
      })
      // As in a shell: Ctrl-C drops a half-typed line; on an empty line it leaves (so does Ctrl-D).
      rl.on('SIGINT', () => {
        if (rl.line.length === 0) return rl.close()
        rl.write(null, { ctrl: true, name: 'e' })
        rl.write(null, { ctrl: true, name: 'u' })
      })
      rl.on('close', () => {
        void queue.then(() => {
          this.closed = true
          if (options.interactive) {
            options.output.write('\n')
            saveHistory(options.historyFile, (rl as unknown as { history: string[] }).history)
          }
          resolve(this.daemonGone ? 1 : 0)
        })
      })
      options.events.onClose((error) => {
        if (!error || this.closed) return
        this.leave(ErrorCode.DaemonUnreachable, 'the daemon stopped; leaving chat (restart it with p2p daemon start)')
      })
      void this.subscribe()
    })
  }

  private async subscribe(): Promise<void> {
    const { options, c } = this
    try {
      await options.events.call('subscribe', {})
      await this.refreshPeers().catch(() => undefined) // completion only; the server may be down
    } catch (error) {
      // Input ended before the subscription was answered: the session is over, and its
      // connections closed on purpose; that is no error to report.
      if (this.closed) return
      const { code, message } = describeError(error)
      this.leave(code, message)
      return
    }
    if (options.interactive && !options.json) {
      this.info(c.dim(`chatting as ${options.me}${this.query ? ` with ${this.query}` : ''}; /help for commands, /exit or Ctrl-D to leave`))
      this.rl.prompt()
    }
  }

  /** The daemon is gone: say why, and end with exit 1. */
  private leave(code: string, message: string): void {
    this.daemonGone = true
    this.fail(code, message)
    this.rl.close()
  }

  private promptText(): string {
    return this.query ? `${this.options.me} -> ${this.query}> ` : `${this.options.me}> `
  }

  /** Prints above the prompt: clear the prompt rows, print, redraw the prompt with the half-typed line. */
  private print(text: string, value?: Record<string, unknown>): void {
    const { output, interactive, json } = this.options
    if (json) {
      if (value) output.write(`${JSON.stringify(value)}\n`)
      return
    }
    if (!interactive || this.closed) {
      output.write(`${text}\n`)
      return
    }
    const { rows } = this.rl.getCursorPos()
    moveCursor(output, 0, -rows)
    cursorTo(output, 0)
    clearScreenDown(output)
    output.write(`${text}\n`)
    this.rl.prompt(true)
  }

  private info(text: string): void {
    this.print(text, { type: 'info', message: text })
  }

  private fail(code: string, message: string): void {
    // A script's errors go to stderr, apart from its results; in a terminal they sit among the rest.
    if (!this.options.interactive && !this.options.json) process.stderr.write(`p2p chat: ${sanitize(message)}\n`)
    else this.print(`${this.c.red('!')} ${sanitize(message)}`, { type: 'error', code, message })
  }

  private result(command: string, text: string, result: unknown): void {
    this.print(text, { type: 'result', command, result })
  }

  private showMessage(event: MessageEvent): void {
    this.knownPeers.add(event.from)
    const { cursor, id, from, text, at } = event
    this.print(messageLine(at, from, text, this.c), { type: 'message', cursor, id, from, text, at })
  }

  /** A timed mute ran out: the user should know that peer's messages show again. */
  private showNotice(event: MuteEndedEvent): void {
    const text = `${this.c.dim(`[${clock(event.at)}]`)} mute on ${sanitize(event.peer)} ended: their messages show again`
    this.print(text, { type: 'muteEnded', peer: event.peer, at: event.at })
  }

  private async refreshPeers(): Promise<void> {
    for (const p of await this.options.client.call('peers')) this.knownPeers.add(p.userId)
  }

  private setQuery(peer: string | undefined): void {
    this.query = peer
    this.rl.setPrompt(this.promptText())
  }

  private async send(to: string, text: string): Promise<void> {
    const result = await this.options.client.call('send', { to, text: checkText(text) })
    this.knownPeers.add(to)
    const note =
      result.status === 'delivered'
        ? `delivered to ${to}`
        : result.status === 'queued'
          ? `queued for ${to} (sent when they are back)`
          : result.status === 'mailbox'
            ? `left in ${to}'s mailbox (they get it when they are back)`
            : `${result.status}: ${to}`
    this.result('msg', this.c.dim(note), result)
  }

  private async handle(line: string): Promise<void> {
    if (this.exiting) return
    const parsed = parseLine(line)
    try {
      switch (parsed.kind) {
        case 'empty':
          return
        case 'text':
          if (!this.query)
            return this.fail(ErrorCode.Usage, 'no conversation open: /query <peer> first, or /msg <peer> <message> (/help for more)')
          return await this.send(this.query, parsed.text)
        case 'unknown':
          return this.fail(
            ErrorCode.Usage,
            `unknown command /${sanitize(parsed.name)}${parsed.suggestion ? `; did you mean /${parsed.suggestion}?` : ''} (/help lists commands)`,
          )
        case 'usage':
          return this.fail(ErrorCode.Usage, `usage: ${parsed.spec.usage}`)
        case 'command':
          return await this.command(parsed.spec, parsed.args, parsed.rest)
      }
    } catch (error) {
      const { code, message } = describeError(error)
      if (code === ErrorCode.DaemonUnreachable || code === ErrorCode.DaemonNotResponding) this.leave(code, message)
      else this.fail(code, message)
    }
  }

  private async command(spec: ChatCommandSpec, args: string[], rest: (from: number) => string): Promise<void> {
    const { client } = this.options
    const c = this.c
    switch (spec.name) {
      case 'msg':
        return this.send(peerId(args[0] as string), rest(1))
      case 'discover':
      case 'peers': {
        const peers = await client.call(spec.name)
        for (const p of peers) this.knownPeers.add(p.userId)
        const empty = spec.name === 'discover' ? 'nobody else is online' : 'no known peers yet (try /discover)'
        return this.result(spec.name, peersTable(peers, c, empty), peers)
      }
      case 'block':
      case 'unblock':
      case 'unmute':
      case 'mute': {
        const extra = spec.name === 'mute' && args[1] !== undefined ? { for: durationSeconds(args[1]) } : {}
        const peer = peerId(args[0] as string)
        const result = await client.call(spec.name, { peer, ...extra })
        return this.result(spec.name, policyLine(spec.name, result), result)
      }
      case 'history': {
        const peer = args[0] !== undefined ? peerId(args[0]) : this.query
        const entries = await client.call('history', { ...(peer ? { peer } : {}), limit: 20 })
        const text = entries.length ? entries.map((e) => historyLine(e, c)).join('\n') : 'no messages yet'
        return this.result('history', text, entries)
      }
      case 'query':
        return this.openQuery(args[0])
      case 'trust': {
        const result = await client.call('trust', { peer: peerId(args[0] as string) })
        return this.result('trust', trustLine(result), result)
      }
      case 'status': {
        const status = await client.call('status')
        return this.result('status', statusLines(status, c), status)
      }
      case 'help':
        return this.info(helpText())
      case 'exit':
        // Lines already read after /exit are not run.
        this.exiting = true
        this.rl.close()
        return
    }
  }

  /** `/query PEER` opens a conversation; `/query` alone closes it. */
  private openQuery(raw: string | undefined): void {
    const was = this.query
    const peer = raw === undefined ? undefined : peerId(raw)
    this.setQuery(peer)
    if (peer) {
      this.knownPeers.add(peer)
      this.info(`talking to ${peer}: lines without a slash go to them (/query alone to stop)`)
    } else {
      this.info(was ? `conversation with ${was} closed` : 'usage: /query <peer>')
    }
  }
}

function loadHistory(file: string | undefined): string[] {
  if (!file) return []
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(0, HISTORY_LINES)
  } catch {
    return []
  }
}

function saveHistory(file: string | undefined, lines: string[] | undefined): void {
  if (!file || !lines) return
  try {
    // Newest first, as readline keeps it; private like the rest of the profile.
    writeFileSync(file, `${lines.slice(0, HISTORY_LINES).join('\n')}\n`, { mode: 0o600 })
  } catch {
    // Losing typed-line history is not worth failing the exit over.
  }
}
