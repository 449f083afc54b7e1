/**
 * Lines of a byte stream as message texts, for `p2p msg PEER < file`. Streaming (a line is
 * yielded as soon as its newline arrives, so `tail -f log | p2p msg bob` works) and bounded (a
 * line longer than a message may be is refused before it is buffered whole). Blank lines (empty
 * or only white space) are skipped: they are not messages, and a log's first blank line must not
 * end the pipe.
 */
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { MAX_TEXT_BYTES } from '../protocol/limits.js'

/**
 * The lines of each chunk read, as one array: a pipeline of 100,000 lines costs a turn of the
 * generator per chunk, not per line. A chunk's whole lines are decoded at once; only a chunk that
 * is not valid UTF-8 is decoded line by line, to name the line. Lines before a bad line are
 * yielded before the error is thrown, so what was read before it still goes out.
 */
export async function* stdinLineBatches(input: AsyncIterable<Buffer | string>): AsyncGenerator<string[]> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let lineNo = 0
  let pending: Buffer[] = []
  let pendingBytes = 0

  /** One line, with the error that names it. */
  const takeLine = (bytes: Buffer, out: string[]) => {
    lineNo++
    // Windows line ends: the \r is not part of the message.
    const body = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, bytes.length - 1) : bytes
    if (body.length > MAX_TEXT_BYTES) throw tooLarge(lineNo)
    let text: string
    try {
      text = decoder.decode(body)
    } catch {
      throw new P2PError(ErrorCode.BadRequest, `line ${lineNo} of stdin is not valid UTF-8`)
    }
    if (text.trim() !== '') out.push(text)
  }

  /** Whole lines, separated by \n (the last one's \n not included). */
  const takeLines = (bytes: Buffer, out: string[]) => {
    let text: string
    try {
      text = decoder.decode(bytes)
    } catch {
      for (let start = 0; ; ) {
        const newline = bytes.indexOf(0x0a, start)
        takeLine(bytes.subarray(start, newline < 0 ? bytes.length : newline), out)
        if (newline < 0) return
        start = newline + 1
      }
    }
    for (const raw of text.split('\n')) {
      lineNo++
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
      // At most 3 bytes per UTF-16 unit: most lines need no count of their bytes.
      if (line.length * 3 > MAX_TEXT_BYTES && Buffer.byteLength(line, 'utf8') > MAX_TEXT_BYTES) throw tooLarge(lineNo)
      if (line.trim() !== '') out.push(line)
    }
  }

  for await (const chunk of input) {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    const out: string[] = []
    try {
      const lastNewline = data.lastIndexOf(0x0a)
      let rest = data
      if (lastNewline >= 0) {
        const whole = data.subarray(0, lastNewline)
        takeLines(pending.length ? Buffer.concat([...pending, whole]) : whole, out)
        pending = []
        pendingBytes = 0
        rest = data.subarray(lastNewline + 1)
      }
      if (rest.length) {
        pending.push(Buffer.from(rest))
        pendingBytes += rest.length
        // +1 leaves room for a \r that will be dropped.
        if (pendingBytes > MAX_TEXT_BYTES + 1) throw tooLarge(lineNo + 1)
      }
    } catch (error) {
      if (out.length) yield out
      throw error
    }
    if (out.length) yield out
  }
  // A last line without a newline is still a message.
  if (pendingBytes > 0) {
    const out: string[] = []
    takeLine(Buffer.concat(pending), out)
    if (out.length) yield out
  }
}

function tooLarge(lineNo: number): P2PError {
  return new P2PError(ErrorCode.MessageTooLarge, `line ${lineNo} of stdin is over ${MAX_TEXT_BYTES} bytes (64 KiB), the message limit`)
}
