/**
 * Splits a byte stream into lines on the byte 0x0A, refusing any line over `maxBytes` before it is
 * buffered whole, so a peer or client that never sends a newline cannot grow our memory.
 *
 * Linear in the bytes pushed: each chunk is scanned once for its last newline, and the bytes of an
 * unfinished line are appended to a buffer that grows by doubling, joined once when the newline
 * comes. (The version before re-joined and re-split the whole partial line on every chunk: a peer
 * dripping a 380 KB line a byte per read stalled the daemon for 10-26 s.)
 *
 * Lines are decoded with a fatal UTF-8 decoder: 0x0A never occurs inside a multi-byte character,
 * so a character split between two reads is decoded whole, and a line that is not UTF-8 comes out
 * as its raw bytes (a Buffer) for the caller to refuse.
 */

/** A line: its text, or its raw bytes when they are not valid UTF-8. */
export type Line = string | Buffer

const utf8 = new TextDecoder('utf-8', { fatal: true })
const NEWLINE = 0x0a
const EMPTY = Buffer.alloc(0)

export class LineSplitter {
  /** The bytes of the unfinished line: `partial[0, partialBytes)`. */
  private partial = EMPTY
  private partialBytes = 0

  constructor(private readonly maxBytes: number) {}

  /** Bytes of the unfinished line held so far. */
  get pendingBytes(): number {
    return this.partialBytes
  }

  /**
   * The complete lines in `chunk` as text (bytes that are not UTF-8 become U+FFFD), or 'overflow'
   * when a line exceeds the cap.
   */
  push(chunk: Buffer | string): string[] | 'overflow' {
    const lines = this.pushLines(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    if (lines === 'overflow') return lines
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as Line
      if (typeof line !== 'string') lines[i] = line.toString('utf8')
    }
    return lines as string[]
  }

  /** The complete lines in `chunk`, a Buffer for each that is not UTF-8; or 'overflow'. */
  pushLines(chunk: Buffer): Line[] | 'overflow' {
    const end = chunk.lastIndexOf(NEWLINE)
    if (end === -1) return this.keep(chunk) ? [] : 'overflow'
    let head = chunk.subarray(0, end)
    if (this.partialBytes > 0) {
      head = Buffer.concat([this.partial.subarray(0, this.partialBytes), head])
      this.partial = EMPTY
      this.partialBytes = 0
    }
    if (end + 1 < chunk.length && !this.keep(chunk.subarray(end + 1))) return 'overflow'
    return this.split(head)
  }

  /** Appends to the unfinished line; false when that makes it longer than the cap. */
  private keep(bytes: Buffer): boolean {
    const needed = this.partialBytes + bytes.length
    if (needed > this.maxBytes) return false
    if (needed > this.partial.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(needed, 2 * this.partial.length, 256)))
      this.partial.copy(grown, 0, 0, this.partialBytes)
      this.partial = grown
    }
    bytes.copy(this.partial, this.partialBytes)
    this.partialBytes = needed
    return true
  }

  /** Whole lines, without their final newline. One decode for the lot when it is all UTF-8 (the usual case). */
  private split(bytes: Buffer): Line[] | 'overflow' {
    let text: string
    try {
      text = utf8.decode(bytes)
    } catch {
      return this.splitEach(bytes)
    }
    const lines = text.split('\n')
    // Length in UTF-16 units is a lower bound of the bytes; past the cap in bytes, check each line.
    if (bytes.length > this.maxBytes) for (const line of lines) if (line.length > this.maxBytes) return 'overflow'
    return lines
  }

  /** Line by line, for input with some bytes that are not UTF-8. */
  private splitEach(bytes: Buffer): Line[] | 'overflow' {
    const lines: Line[] = []
    let start = 0
    while (start <= bytes.length) {
      const newline = bytes.indexOf(NEWLINE, start)
      const stop = newline === -1 ? bytes.length : newline
      if (stop - start > this.maxBytes) return 'overflow'
      const line = bytes.subarray(start, stop)
      try {
        lines.push(utf8.decode(line))
      } catch {
        lines.push(Buffer.from(line))
      }
      start = stop + 1
    }
    return lines
  }
}
