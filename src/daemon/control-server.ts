/**
 * JSON-RPC 2.0 over the profile's Unix socket, one JSON object per line. Any client that can
 * write a line (the CLI, socat, a script) can drive the daemon. A bad line gets a JSON-RPC error
 * and the connection stays usable; a line over the cap closes that connection; nothing a client
 * sends can take the daemon down.
 */

import { chmodSync, existsSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { dirname } from 'node:path'
import type { Logger } from 'pino'
import { parseControlRequest } from '../protocol/control-request.js'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { MAX_CONTROL_LINE_BYTES } from '../protocol/limits.js'
import { rpcSchemas } from '../protocol/load-schemas.js'
import type { MethodName, ParsedParamsOf, ResultOf } from '../protocol/rpc.js'
import {
  JSONRPC_APPLICATION_ERROR,
  JSONRPC_INTERNAL_ERROR,
  JSONRPC_INVALID_PARAMS,
  JSONRPC_INVALID_REQUEST,
  JSONRPC_METHOD_NOT_FOUND,
  JSONRPC_PARSE_ERROR,
} from '../protocol/rpc-codes.js'
import { LineSplitter } from './line-splitter.js'

/** A subscriber that stops reading is cut off beyond this much unsent output (it can resume from its cursor). */
const MAX_CLIENT_BACKLOG_BYTES = 16 * 1024 * 1024
/** Buffered output above this is written at once rather than at the end of the turn. */
const FLUSH_AT_CHARS = 64 * 1024
/**
 * Requests handled per turn from one connection. A client that pipelines a thousand sends at once
 * (`seq 100000 | p2p msg bob`) has its first ones committed and on their way to the peer while the
 * daemon parses the rest, so the sender, the peer and the client work at the same time instead of
 * passing one batch around in turn: about 15% more messages/s in B6 (BENCHMARKS.md).
 */
const REQUESTS_PER_TURN = 256

export interface ClientContext {
  /** Sends a JSON-RPC notification on this connection. */
  notify(method: string, params: unknown): void
  /** Runs `fn` right after this request's response is written; called while the handler runs (before it awaits). */
  afterReply(fn: () => void): void
  /** Runs `fn` when the client goes away. */
  onClose(fn: () => void): void
}

export type ControlHandlers = {
  [M in MethodName]: (params: ParsedParamsOf<M>, client: ClientContext) => Promise<ResultOf[M]> | ResultOf[M]
}

type RpcId = string | number | null

interface ConnectionState {
  unanswered: number
  inputEnded: boolean
  /** Called when a request is done; ends the connection after the last answer if input ended. */
  settled(): void
  /** The connection's context, the same for each of its requests. */
  context: ClientContext
  /** What afterReply collected while the current request's handler ran. */
  afterCurrent: Array<() => void> | undefined
}

export class ControlServer {
  private server: Server | undefined
  private readonly clients = new Set<Socket>()

  constructor(
    private readonly socketPath: string,
    private readonly handlers: ControlHandlers,
    private readonly log: Logger,
  ) {}

  async listen(): Promise<void> {
    ensurePrivateDirectory(dirname(this.socketPath))
    await removeStaleSocket(this.socketPath)
    // Half-open: a client that writes its requests and then ends its side (`... | socat - UNIX-CONNECT:`)
    // still gets its answers; the socket is ended once the last of them is written.
    const server = createServer({ allowHalfOpen: true }, (socket) => this.onClient(socket))
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.socketPath, () => {
        server.off('error', reject)
        resolve()
      })
    })
    chmodSync(this.socketPath, 0o600)
    server.on('error', (error) => this.log.error({ err: error }, 'control socket error'))
  }

  async close(): Promise<void> {
    for (const socket of this.clients) socket.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
    try {
      unlinkSync(this.socketPath)
    } catch {
      // Already gone.
    }
  }

  private onClient(socket: Socket): void {
    this.clients.add(socket)
    const splitter = new LineSplitter(MAX_CONTROL_LINE_BYTES)
    const closeHandlers: Array<() => void> = []
    // Answers and notifications of one turn go out in one write: a pipelining client gets
    // hundreds of answers per turn, and a write per answer was a syscall each.
    let pending = ''
    let flushScheduled = false
    // Written once the microtasks queued so far have run: the answers that one read or one
    // commit's callbacks settle (promise chains of equal depth) go out together, and an idle
    // `send` is answered without waiting for the rest of the turn (its delivered mark commits then).
    const scheduleFlush = () => {
      if (flushScheduled) return
      flushScheduled = true
      queueMicrotask(flush)
    }
    // One context per connection, not per request: `send`, the request sent most, never uses it.
    const context: ClientContext = {
      notify: (method, params) => write({ jsonrpc: '2.0', method, params }),
      afterReply: (fn) => {
        state.afterCurrent ??= []
        state.afterCurrent.push(fn)
      },
      onClose: (fn) => closeHandlers.push(fn),
    }
    // Requests read but not answered yet, and whether the client ended its side. A client that
    // ends its side is done: a subscriber gone that way is dropped as one that closed (over a Unix
    // socket a half-close and a close look the same, and a gone subscriber must not linger).
    const state: ConnectionState = {
      unanswered: 0,
      inputEnded: false,
      settled: () => state.inputEnded && scheduleFlush(),
      context,
      afterCurrent: undefined,
    }
    const flush = () => {
      flushScheduled = false
      const data = pending
      pending = ''
      if (socket.destroyed) return
      if (data.length > 0) socket.write(data)
      if (socket.writableLength > MAX_CLIENT_BACKLOG_BYTES) {
        this.log.warn('control client is not reading; disconnecting it')
        socket.destroy()
        return
      }
      if (state.inputEnded && state.unanswered === 0) socket.end()
    }
    const write = (message: unknown) => {
      if (socket.destroyed) return
      pending += `${JSON.stringify(message)}\n`
      if (pending.length >= FLUSH_AT_CHARS) flush()
      else scheduleFlush()
    }
    socket.on('data', (chunk) => {
      const lines = splitter.pushLines(chunk)
      if (lines === 'overflow') {
        write(rpcError(null, JSONRPC_INVALID_REQUEST, `request line over ${MAX_CONTROL_LINE_BYTES} bytes`, ErrorCode.TooLarge))
        flush()
        socket.end()
        socket.destroySoon()
        return
      }
      const handleFrom = (start: number) => {
        const end = Math.min(lines.length, start + REQUESTS_PER_TURN)
        for (let i = start; i < end; i++) {
          const line = lines[i]
          // Replacement characters would change what the client asked to send: refuse it instead.
          if (typeof line !== 'string')
            write(rpcError(null, JSONRPC_PARSE_ERROR, 'parse error: the request is not valid UTF-8', ErrorCode.BadRequest))
          else if (line.trim()) this.handleLine(line, write, state)
        }
        if (end < lines.length) {
          // The rest in the next turn, and nothing more read before them: answers keep their order.
          socket.pause()
          setImmediate(() => handleFrom(end))
        } else if (start > 0) socket.resume()
      }
      handleFrom(0)
    })
    socket.on('end', () => {
      state.inputEnded = true
      scheduleFlush()
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => {
      this.clients.delete(socket)
      for (const fn of closeHandlers) fn()
    })
  }

  private handleLine(line: string, write: (message: unknown) => void, state: ConnectionState): void {
    let raw: unknown
    try {
      raw = JSON.parse(line)
    } catch {
      write(rpcError(null, JSONRPC_PARSE_ERROR, 'parse error: not JSON', ErrorCode.BadRequest))
      return
    }
    const request = parseControlRequest(raw) ?? validateRequest(raw, write)
    if (!request) return
    const { id } = request
    const rpcId: RpcId = id ?? null
    const name = request.method
    let after: Array<() => void> | undefined
    const handler = this.handlers[name] as (params: unknown, client: ClientContext) => unknown
    state.unanswered++
    const answered = (result: unknown) => {
      // Notifications (no id) get no response, as JSON-RPC says.
      state.unanswered--
      if (id !== undefined) write({ jsonrpc: '2.0', id: rpcId, result })
      if (after) for (const fn of after) fn()
      state.settled()
    }
    const failed = (error: unknown) => {
      state.unanswered--
      if (error instanceof P2PError) {
        write(rpcError(rpcId, JSONRPC_APPLICATION_ERROR, error.message, error.code))
      } else {
        this.log.error({ err: error, method: name }, 'control request failed')
        write(rpcError(rpcId, JSONRPC_INTERNAL_ERROR, `internal error: ${(error as Error)?.message ?? error}`, ErrorCode.Internal))
      }
      state.settled()
    }
    // Called at once, not from a promise chain: two promises fewer per `send`, the request sent most.
    let outcome: unknown
    try {
      outcome = handler(request.params, state.context)
    } catch (error) {
      failed(error)
      return
    } finally {
      after = state.afterCurrent
      state.afterCurrent = undefined
    }
    if (outcome instanceof Promise) outcome.then(answered, failed)
    else answered(outcome)
  }
}

/**
 * A request and its params as the schemas accept them, or undefined once the error is written.
 * The schemas (and zod) load here, the first time the fast check leaves a request to them.
 */
function validateRequest(
  raw: unknown,
  write: (message: unknown) => void,
): { id: RpcId | undefined; method: MethodName; params: unknown } | undefined {
  const { RpcRequestSchema, MethodParams } = rpcSchemas()
  const request = RpcRequestSchema.safeParse(raw)
  if (!request.success) {
    write(
      rpcError(
        idOf(raw),
        JSONRPC_INVALID_REQUEST,
        'invalid request: expected {"jsonrpc":"2.0","id":…,"method":…,"params":…}',
        ErrorCode.BadRequest,
      ),
    )
    return undefined
  }
  const { id, method, params } = request.data
  if (!Object.hasOwn(MethodParams, method)) {
    write(rpcError(id ?? null, JSONRPC_METHOD_NOT_FOUND, `unknown method "${method}"`, ErrorCode.BadRequest))
    return undefined
  }
  const parsed = MethodParams[method as MethodName].safeParse(params)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : ''
    write(rpcError(id ?? null, JSONRPC_INVALID_PARAMS, `invalid params: ${where}${issue?.message ?? 'invalid'}`, issueCode(issue)))
    return undefined
  }
  return { id, method: method as MethodName, params: parsed.data }
}

function rpcError(id: RpcId, code: number, message: string, dataCode: string) {
  return { jsonrpc: '2.0', id, error: { code, message, data: { code: dataCode } } }
}

function idOf(raw: unknown): RpcId {
  const id = (raw as { id?: unknown } | null)?.id
  return typeof id === 'string' || typeof id === 'number' ? id : null
}

/** Issues that carry a code of their own (text too large, empty) keep it; everything else is bad input. */
function issueCode(issue: unknown): string {
  const code = (issue as { params?: { code?: unknown } } | undefined)?.params?.code
  return typeof code === 'string' ? code : ErrorCode.BadRequest
}

/**
 * The socket's directory must be ours alone: in a shared temp dir, another user who could write
 * there could replace the socket and read what the CLI sends. Made 0700 when we own it; anything
 * else (a symlink, another owner) is refused.
 */
function ensurePrivateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const info = lstatSync(dir)
  const uid = typeof process.getuid === 'function' ? process.getuid() : info.uid
  if (!info.isDirectory() || info.uid !== uid) {
    throw new P2PError(ErrorCode.Internal, `${dir} is not a directory of this user; refusing to put the control socket there`)
  }
  if ((info.mode & 0o077) !== 0) chmodSync(dir, 0o700)
}

/**
 * A socket file left by a crashed daemon is removed; a live daemon's socket is never stolen:
 * if something answers on it, starting fails with a clear error.
 */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(path)
    const timer = setTimeout(() => {
      probe.destroy()
      resolve(true)
    }, 1000)
    probe.once('connect', () => {
      clearTimeout(timer)
      probe.destroy()
      resolve(true)
    })
    probe.once('error', () => {
      clearTimeout(timer)
      resolve(false)
    })
  })
  if (alive) throw new P2PError(ErrorCode.Internal, `a daemon is already running on ${path}`)
  unlinkSync(path)
}
