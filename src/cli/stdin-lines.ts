/**
 * Lines of a byte stream as message texts, for `p2p msg PEER < file`. Streaming (a line is
 * yielded as soon as its newline arrives, so `tail -f log | p2p msg bob` works) and bounded (a
 * line longer than a message may be is refused before it is buffered whole).
 */
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { MAX_TEXT_BYTES } from '../protocol/limits.js'

export async function* stdinLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let lineNo = 0
  let pending: Buffer[] = []
  let pendingBytes = 0

  const finish = (bytes: Buffer): string => {
    lineNo++
    // Windows line ends: the \r is not part of the message.
    const body = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, bytes.length - 1) : bytes
    if (body.length === 0) throw new P2PError(ErrorCode.EmptyMessage, `line ${lineNo} of stdin is empty (every line is one message)`)
    if (body.length > MAX_TEXT_BYTES) throw tooLarge(lineNo)
    try {
      return decoder.decode(body)
    } catch {
      throw new P2PError(ErrorCode.BadRequest, `line ${lineNo} of stdin is not valid UTF-8`)
    }
  }

  for await (const chunk of input) {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    let newline = data.indexOf(0x0a)
    while (newline >= 0) {
      const piece = data.subarray(0, newline)
      const line = pending.length ? Buffer.concat([...pending, piece]) : piece
      pending = []
      pendingBytes = 0
      yield finish(line)
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
  if (pendingBytes > 0) yield finish(Buffer.concat(pending))
}

function tooLarge(lineNo: number): P2PError {
  return new P2PError(ErrorCode.MessageTooLarge, `line ${lineNo} of stdin is over ${MAX_TEXT_BYTES} bytes (64 KiB), the message limit`)
}
