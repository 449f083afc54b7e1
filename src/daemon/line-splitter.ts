/**
 * Splits a byte stream into lines, refusing any line over `maxBytes` before it is buffered whole,
 * so a peer or client that never sends a newline cannot grow our memory. A character split
 * between two reads is decoded whole (StringDecoder keeps the partial bytes).
 */
import { StringDecoder } from 'node:string_decoder'

export class LineSplitter {
  private partial = ''
  private readonly decoder = new StringDecoder('utf8')

  constructor(private readonly maxBytes: number) {}

  /** Returns the complete lines in `chunk`, or 'overflow' when a line exceeds the cap. */
  push(chunk: Buffer | string): string[] | 'overflow' {
    const text = this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk))
    const lines = text.split('\n')
    this.partial = lines.pop() ?? ''
    // Length in UTF-16 units is a cheap lower bound of the bytes; it is exact for ASCII.
    if (this.partial.length > this.maxBytes) return 'overflow'
    for (const line of lines) if (line.length > this.maxBytes) return 'overflow'
    return lines
  }
}
