/**
 * Lines of a byte stream as message texts, for `p2p msg PEER < file`. Streaming (a line is
 * yielded as soon as its newline arrives, so `tail -f log | p2p msg bob` works) and bounded (a
 * line longer than a message may be is refused before it is buffered whole). Blank lines (empty
 * or only white space) are skipped: they are not messages, and a log's first blank line must not
 * end the pipe.
 */
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { MAX_TEXT_BYTES } from '../protocol/limits.js'

export async function* stdinLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let lineNo = 0
  let pending: Buffer[] = []
  let pendingBytes = 0

  /** The line's text, or undefined for a blank line. */
  const finish = (bytes: Buffer): string | undefined => {
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
    return text.trim() === '' ? undefined : text
  }

  for await (const chunk of input) {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    let newline = data.indexOf(0x0a)
    while (newline >= 0) {
      const piece = data.subarray(0, newline)
      const line = pending.length ? Buffer.concat([...pending, piece]) : piece
      pending = []
      pendingBytes = 0
      const text = finish(line)
      if (text !== undefined) yield text
      data = data.subarray(newline + 1)
      newline = data.indexOf(0x0a)
    }
    if (data.length) {
      pending.push(Buffer.from(data))
      pendingBytes += data.length
      // +1 leaves room for a \r that will be dropped.
      if (pendingBytes > MAX_TEXT_BYTES + 1) throw tooLarge(lineNo + 1)
    }
  }
  // A last line without a newline is still a message.
  const last = pendingBytes > 0 ? finish(Buffer.concat(pending)) : undefined
  if (last !== undefined) yield last
}

function tooLarge(lineNo: number): P2PError {
  return new P2PError(ErrorCode.MessageTooLarge, `line ${lineNo} of stdin is over ${MAX_TEXT_BYTES} bytes (64 KiB), the message limit`)
}
