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
import { clearScreenDown, createInterface, cursorTo, moveCursor } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { ErrorCode } from '../../protocol/errors.js'
import { describeError } from '../base-command.js'
import { type DaemonClient, onMessageEvent } from '../control-client.js'
import { messageLine, type Palette, sanitize } from '../format.js'
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

/** Runs until /exit, Ctrl-C, Ctrl-D or end of input; resolves with the exit code. */
export function runChat(options: ChatOptions): Promise<number> {
  const { client, events, me, input, output, interactive, palette: c, json } = options
  let query = options.query
  const knownPeers = new Set<string>(query ? [query] : [])
  let closed = false
  let exiting = false
  let daemonGone = false

  const promptText = () => (query ? `${me} -> ${query}> ` : `${me}> `)
  const rl = createInterface({
    input,
    output,
    terminal: interactive,
    prompt: promptText(),
    historySize: interactive ? HISTORY_LINES : 0,
    removeHistoryDuplicates: true,
    history: interactive ? loadHistory(options.historyFile) : [],
    ...(interactive ? { completer: (line: string) => complete(line, [...knownPeers].sort()) } : {}),
  })

  /** Prints above the prompt: clear the prompt rows, print, redraw the prompt with the half-typed line. */
  const print = (text: string, value?: Record<string, unknown>) => {
    if (json) {
      if (value) output.write(`${JSON.stringify(value)}\n`)
      return
    }
    if (!interactive || closed) {
      output.write(`${text}\n`)
      return
    }
    const { rows } = rl.getCursorPos()
    moveCursor(output, 0, -rows)
    cursorTo(output, 0)
    clearScreenDown(output)
    output.write(`${text}\n`)
    rl.prompt(true)
  }
  const info = (text: string) => print(text, { type: 'info', message: text })
  const fail = (code: string, message: string) => {
    // A script's errors go to stderr, apart from its results; in a terminal they sit among the rest.
    if (!interactive && !json) process.stderr.write(`p2p chat: ${sanitize(message)}\n`)
    else print(`${c.red('!')} ${sanitize(message)}`, { type: 'error', code, message })
  }

  onMessageEvent(events, (event) => {
    knownPeers.add(event.from)
    print(messageLine(event.at, event.from, event.text, c), {
      type: 'message',
      cursor: event.cursor,
      id: event.id,
      from: event.from,
      text: event.text,
      at: event.at,
    })
  })

  const refreshPeers = async () => {
    for (const p of await client.call('peers')) knownPeers.add(p.userId)
  }

  const setQuery = (peer: string | undefined) => {
    query = peer
    rl.setPrompt(promptText())
  }

  const send = async (to: string, text: string) => {
    const result = await client.call('send', { to, text: checkText(text) })
    knownPeers.add(to)
    const note =
      result.status === 'delivered'
        ? `delivered to ${to}`
        : result.status === 'queued'
          ? `queued for ${to} (sent when they are back)`
          : `${result.status}: ${to}`
    print(c.dim(note), { type: 'result', command: 'msg', result })
  }

  const run = async (spec: ChatCommandSpec, args: string[], rest: (from: number) => string): Promise<void> => {
    switch (spec.name) {
      case 'msg':
        return send(peerId(args[0] as string), rest(1))
      case 'discover': {
        const peers = await client.call('discover')
        for (const p of peers) knownPeers.add(p.userId)
        return print(peersTable(peers, c, 'nobody else is online'), { type: 'result', command: 'discover', result: peers })
      }
      case 'peers': {
        const peers = await client.call('peers')
        for (const p of peers) knownPeers.add(p.userId)
        return print(peersTable(peers, c, 'no known peers yet (try /discover)'), { type: 'result', command: 'peers', result: peers })
      }
      case 'block':
      case 'unblock':
      case 'unmute': {
        const result = await client.call(spec.name, { peer: peerId(args[0] as string) })
        return print(policyLine(spec.name, result), { type: 'result', command: spec.name, result })
      }
      case 'mute': {
        const peer = peerId(args[0] as string)
        const result = await client.call('mute', { peer, ...(args[1] !== undefined ? { for: durationSeconds(args[1]) } : {}) })
        return print(policyLine('mute', result), { type: 'result', command: 'mute', result })
      }
      case 'history': {
        const peer = args[0] !== undefined ? peerId(args[0]) : query
        const entries = await client.call('history', { ...(peer ? { peer } : {}), limit: 20 })
        const text = entries.length ? entries.map((e) => historyLine(e, c)).join('\n') : 'no messages yet'
        return print(text, { type: 'result', command: 'history', result: entries })
      }
      case 'query': {
        if (args[0] === undefined) {
          const was = query
          setQuery(undefined)
          return info(was ? `conversation with ${was} closed` : 'usage: /query <peer>')
        }
        const peer = peerId(args[0])
        setQuery(peer)
        knownPeers.add(peer)
        return info(`talking to ${peer}: lines without a slash go to them (/query alone to stop)`)
      }
      case 'trust': {
        const result = await client.call('trust', { peer: peerId(args[0] as string) })
        return print(trustLine(result), { type: 'result', command: 'trust', result })
      }
      case 'status': {
        const status = await client.call('status')
        return print(statusLines(status, c), { type: 'result', command: 'status', result: status })
      }
      case 'help':
        return info(helpText())
      case 'exit':
        // Lines already read after /exit are not run.
        exiting = true
        rl.close()
        return
    }
  }

  const handle = async (line: string): Promise<void> => {
    if (exiting) return
    const parsed = parseLine(line)
    try {
      switch (parsed.kind) {
        case 'empty':
          return
        case 'text':
          if (!query) return fail(ErrorCode.Usage, 'no conversation open: /query <peer> first, or /msg <peer> <message> (/help for more)')
          return await send(query, parsed.text)
        case 'unknown':
          return fail(
            ErrorCode.Usage,
            `unknown command /${sanitize(parsed.name)}${parsed.suggestion ? `; did you mean /${parsed.suggestion}?` : ''} (/help lists commands)`,
          )
        case 'usage':
          return fail(ErrorCode.Usage, `usage: ${parsed.spec.usage}`)
        case 'command':
          return await run(parsed.spec, parsed.args, parsed.rest)
      }
    } catch (error) {
      const { code, message } = describeError(error)
      if (code === ErrorCode.DaemonUnreachable) daemonGone = true
      fail(code, message)
      if (daemonGone) rl.close()
    }
  }

  return new Promise<number>((resolve) => {
    // One command at a time, in the order typed; the prompt stays live meanwhile.
    let queue = Promise.resolve()
    rl.on('line', (line) => {
      queue = queue.then(() => handle(line))
      if (interactive) rl.prompt()
    })
    rl.on('SIGINT', () => rl.close())
    rl.on('close', () => {
      void queue.then(() => {
        closed = true
        if (interactive) {
          output.write('\n')
          saveHistory(options.historyFile, (rl as unknown as { history: string[] }).history)
        }
        resolve(daemonGone ? 1 : 0)
      })
    })
    events.onClose((error) => {
      if (!error || closed) return
      daemonGone = true
      fail(ErrorCode.DaemonUnreachable, 'the daemon stopped; leaving chat (restart it with p2p daemon start)')
      rl.close()
    })

    void (async () => {
      try {
        await events.call('subscribe', {})
        await refreshPeers().catch(() => undefined) // completion only; the server may be down
      } catch (error) {
        const { code, message } = describeError(error)
        daemonGone = true
        fail(code, message)
        rl.close()
        return
      }
      if (interactive && !json) {
        info(c.dim(`chatting as ${me}${query ? ` with ${query}` : ''}; /help for commands, /exit or Ctrl-D to leave`))
        rl.prompt()
      }
    })()
  })
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
