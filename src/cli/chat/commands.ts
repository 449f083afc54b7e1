/**
 * The slash commands of `p2p chat`: their table, parsing a typed line, suggesting the nearest
 * command for a typo, and tab completion. Pure functions, no I/O.
 */
import { nearest } from '../suggest.js'

export interface ChatCommandSpec {
  name: string
  usage: string
  help: string
  /** Arguments that must be present. */
  required: number
  /** Whether the first argument is a peer id (for completion). */
  peerArg: boolean
}

/** The seed's commands first, exactly as it named them; then the additions. */
export const CHAT_COMMANDS: readonly ChatCommandSpec[] = [
  { name: 'msg', usage: '/msg <peer> <message>', help: 'send a message to a peer', required: 2, peerArg: true },
  { name: 'discover', usage: '/discover', help: 'ask the server who is online now', required: 0, peerArg: false },
  { name: 'block', usage: '/block <peer>', help: 'block a peer', required: 1, peerArg: true },
  { name: 'unblock', usage: '/unblock <peer>', help: 'unblock a peer', required: 1, peerArg: true },
  { name: 'mute', usage: '/mute <peer> [duration]', help: 'mute a peer, optionally for a while (30m, 2h)', required: 1, peerArg: true },
  { name: 'unmute', usage: '/unmute <peer>', help: 'unmute a peer', required: 1, peerArg: true },
  { name: 'exit', usage: '/exit', help: 'leave the chat (the daemon keeps running)', required: 0, peerArg: false },
  { name: 'help', usage: '/help', help: 'this list', required: 0, peerArg: false },
  { name: 'peers', usage: '/peers', help: 'every peer your daemon knows', required: 0, peerArg: false },
  { name: 'history', usage: '/history [peer]', help: 'recent messages, with one peer or all', required: 0, peerArg: true },
  {
    name: 'query',
    usage: '/query <peer>',
    help: 'talk to a peer: lines without a slash go to them (/query alone ends it)',
    required: 0,
    peerArg: true,
  },
  { name: 'status', usage: '/status', help: 'how your daemon is doing', required: 0, peerArg: false },
  {
    name: 'trust',
    usage: '/trust <peer>',
    help: "accept a peer's new key, after comparing fingerprints out of band",
    required: 1,
    peerArg: true,
  },
]

const ALIASES: Record<string, string> = { quit: 'exit', q: 'exit', '?': 'help' }

export type ParsedLine =
  | { kind: 'empty' }
  | { kind: 'text'; text: string }
  | { kind: 'command'; spec: ChatCommandSpec; args: string[]; rest: (from: number) => string }
  | { kind: 'unknown'; name: string; suggestion?: string }
  | { kind: 'usage'; spec: ChatCommandSpec }

export function findCommand(name: string): ChatCommandSpec | undefined {
  const lower = name.toLowerCase()
  return CHAT_COMMANDS.find((c) => c.name === (ALIASES[lower] ?? lower))
}

export function parseLine(raw: string): ParsedLine {
  const line = raw.replace(/\r$/, '')
  if (line.trim() === '') return { kind: 'empty' }
  // "//text" sends "/text": the way to start a message with a slash.
  if (line.startsWith('//')) return { kind: 'text', text: line.slice(1) }
  if (!line.startsWith('/')) return { kind: 'text', text: line }
  const body = line.slice(1)
  const name = body.split(/\s+/, 1)[0] ?? ''
  const spec = findCommand(name)
  if (!spec) {
    const suggestion = nearestCommand(name)
    return { kind: 'unknown', name, ...(suggestion ? { suggestion } : {}) }
  }
  const args = body.trim().split(/\s+/).slice(1)
  if (args.length < spec.required) return { kind: 'usage', spec }
  // The message of /msg keeps its own spacing: everything after the first `from` words.
  const rest = (from: number) => {
    let text = body.replace(/^\s*\S+/, '')
    for (let i = 0; i < from; i++) text = text.replace(/^\s*\S+/, '')
    return text.replace(/^\s+/, '')
  }
  return { kind: 'command', spec, args, rest }
}

/** The command a typo most likely meant. */
export function nearestCommand(typed: string): string | undefined {
  return nearest(
    typed,
    CHAT_COMMANDS.map((c) => c.name),
  )
}

/** readline completer: command names after "/", peer ids as a command's first argument. */
export function complete(line: string, peers: readonly string[]): [string[], string] {
  if (!line.startsWith('/')) return [[], line]
  const words = line.split(' ')
  if (words.length === 1) {
    const typed = line.slice(1).toLowerCase()
    const hits = CHAT_COMMANDS.filter((c) => c.name.startsWith(typed)).map((c) => `/${c.name} `)
    return [hits, line]
  }
  const spec = findCommand((words[0] as string).slice(1))
  if (words.length === 2 && spec?.peerArg) {
    const typed = (words[1] as string).toLowerCase()
    return [peers.filter((p) => p.startsWith(typed)).map((p) => `${p} `), words[1] as string]
  }
  return [[], line]
}

export function helpText(): string {
  const width = Math.max(...CHAT_COMMANDS.map((c) => c.usage.length))
  const lines = CHAT_COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.help}`)
  return ['commands:', ...lines, '  a line without a slash goes to the peer of /query; start it with // to send a leading slash'].join('\n')
}
