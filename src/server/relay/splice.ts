/**
 * Two sockets of one circuit joined: from here on the relay only copies bytes, with two brakes
 * and no drops. A side whose reader is slow (its socket over the high-water mark) stops the
 * other side's reading until it drains; a side over its key's byte budget stops its own reading
 * until the budget refills. Either way TCP pushes back on the sender, and the other circuits of
 * the relay never wait for this one.
 */
import type { Socket } from 'node:net'
import type { ByteBudget } from './relay-limits.js'

export interface SpliceEnd {
  socket: Socket
  /** The key whose byte budget pays for what this socket sends. */
  key: string
}

export interface SpliceOptions {
  budget: ByteBudget
  idleTimeoutMs: number
  /** Every byte copied, for a test's eyes only (the server's debug hook). */
  tap?: (chunk: Buffer) => void
  /** Both sockets are gone; `reason` says why the circuit ended. */
  onClose(reason: string): void
}

/** How long a side that ended may take to flush before it is cut off. */
const CLOSE_GRACE_MS = 2000

export function splice(a: SpliceEnd, b: SpliceEnd, options: SpliceOptions): void {
  let reason = 'closed'
  let closed = 0
  const onSocketClose = () => {
    closed++
    if (closed === 2) options.onClose(reason)
  }
  const finish = (why: string) => {
    if (reason === 'closed') reason = why
    for (const s of [a.socket, b.socket]) {
      s.end()
      setTimeout(() => s.destroy(), CLOSE_GRACE_MS).unref()
    }
  }
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    copy(from, to.socket, options)
    from.socket.setTimeout(options.idleTimeoutMs, () => finish('idle_timeout'))
    from.socket.on('end', () => finish('closed'))
    from.socket.on('error', () => finish('connection error'))
    from.socket.once('close', () => {
      onSocketClose()
      to.socket.destroy()
    })
  }
}

function copy(from: SpliceEnd, to: Socket, options: SpliceOptions): void {
  const src = from.socket
  let waitingForDrain = false
  let waitingForBudget = false
  const resume = () => {
    if (!waitingForDrain && !waitingForBudget && !src.destroyed) src.resume()
  }
  src.on('data', (chunk: Buffer) => {
    options.tap?.(chunk)
    if (!to.write(chunk)) {
      waitingForDrain = true
      src.pause()
    }
    const waitMs = options.budget.take(from.key, chunk.length, Date.now())
    if (waitMs > 0 && !waitingForBudget) {
      waitingForBudget = true
      src.pause()
      setTimeout(() => {
        waitingForBudget = false
        resume()
      }, waitMs).unref()
    }
  })
  to.on('drain', () => {
    waitingForDrain = false
    resume()
  })
}
