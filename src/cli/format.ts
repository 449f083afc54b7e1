/**
 * Human output: short aligned tables, optional colour, and `sanitize` for anything a remote party
 * wrote. A peer's message text reaches our terminal, so it must never be able to move the cursor,
 * change colours, set the window title or fake a line of ours.
 */

export interface Palette {
  bold(s: string): string
  dim(s: string): string
  red(s: string): string
  green(s: string): string
  yellow(s: string): string
  cyan(s: string): string
}

const plain = (s: string) => s
const PLAIN: Palette = { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain }

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`

/** Colours only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function paletteFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Palette {
  if (!stream.isTTY || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return PLAIN
  return { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) }
}

// C0 controls except tab, DEL, C1 controls, Unicode line/paragraph separators, and the bidi
// embedding/override/isolate marks (they can make text read differently from what it is).
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/**
 * Makes remote text harmless for a terminal. Control characters become visible caret or hex
 * notation (ESC is `^[`, so `\x1b[31m` shows as `^[[31m`). A newline is kept as a line break only
 * when `indent` is given, and the next line then starts with `indent`, so a message can never
 * print something that looks like a line of its own; otherwise it shows as `\n`.
 */
export function sanitize(text: string, indent?: string): string {
  return text.replace(UNSAFE, (ch) => {
    const cp = ch.charCodeAt(0)
    if (cp === 0x0a) return indent !== undefined ? `\n${indent}` : '\\n'
    if (cp < 0x20) return `^${String.fromCharCode(cp + 0x40)}`
    if (cp === 0x7f) return '^?'
    if (cp <= 0x9f) return `\\x${cp.toString(16)}`
    return `\\u${cp.toString(16).padStart(4, '0')}`
  })
}

/** Columns separated by two spaces, padded to the widest cell; the header may be styled. */
export function table(headers: string[], rows: string[][], palette: Palette = PLAIN): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [palette.dim(line(headers)), ...rows.map(line)].join('\n')
}

const pad2 = (n: number) => String(n).padStart(2, '0')

/** `HH:MM` in local time. */
export function clock(iso: string | number | Date): string {
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? '--:--' : `${pad2(d.getHours())}:${pad2(d.getMinutes())}`
}

/** `YYYY-MM-DD HH:MM` in local time. */
export function dateTime(iso: string | number | Date): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return '????-??-?? --:--'
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${clock(d)}`
}

/** "5s ago", "3m ago", "2h ago", "4d ago". */
export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return ''
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000))
  if (Number.isNaN(s)) return ''
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`
  return `${Math.floor(s / 86_400)}d ago`
}

/** "90s", "30m", "1h30m", "2d". */
export function duration(seconds: number): string {
  let s = Math.round(seconds)
  if (s < 60) return `${s}s`
  const parts: string[] = []
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`)
      s %= size
    }
  }
  return parts.slice(0, 2).join('')
}

/**
 * One incoming message as `watch` and `chat` show it: `[HH:MM] bob: text`. Continuation lines of a
 * multi-line message are indented under the text.
 */
export function messageLine(at: string, from: string, text: string, palette: Palette = PLAIN): string {
  const stamp = `[${clock(at)}]`
  const who = sanitize(from)
  const indent = ' '.repeat(stamp.length + 1 + who.length + 2)
  return `${palette.dim(stamp)} ${palette.cyan(who)}: ${sanitize(text, indent)}`
}
