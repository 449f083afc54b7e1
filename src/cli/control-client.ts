/**
 * The CLI's side of the control protocol (SPEC section 8): JSON-RPC 2.0 over the profile's Unix
 * socket, one JSON object per line. Plain node:net on purpose: a one-shot command must start
 * fast, so nothing here pulls in zod, xstate, SQLite or daemon code (types only from rpc.ts).
 *
 * Requests are pipelined: many may be in flight, and the requests of one turn of the event loop
 * go out in one write (`seq 100000 | p2p msg bob` made a syscall per line); responses are matched
 * by id. Notifications (`event` after `subscribe`) go to `onNotification` listeners. If the
 * daemon goes away, every pending call is rejected with a clear error instead of hanging; if it
 * stays connected but answers nothing for longer than the pending calls may take (a daemon frozen
 * by SIGSTOP, or hung), they are rejected with daemon_not_responding. A subscription's
 * notifications have no deadline once `subscribe` has been answered.
 *
 * `call` is typed per method from rpc.ts (params as the daemon's schema accepts them, the result
 * it answers with), so a wrong method name or a missing param is a compile error, not exit 1.
 */
import { connect, type Socket } from 'node:net'
import { DEFAULT_SEND_TIMEOUT_S } from '../protocol/defaults.js'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import type { DaemonEvent, MessageEvent, MethodName, ParamsOf, ResultOf } from '../protocol/rpc.js'

export type Method = MethodName & keyof ResultOf

/** `call`'s params: optional for the methods whose params are optional (status, history, ...). */
export type ParamsArg<M extends Method> = undefined extends ParamsOf<M> ? [params?: ParamsOf<M>] : [params: ParamsOf<M>]

/**
 * What commands and the chat need of a daemon connection (tailscale's LocalClient shape): the
 * real one is ControlClient; in-process tests hand in a fake through BaseCommand.createClient().
 */
export interface DaemonClient {
  call<M extends Method>(method: M, ...params: ParamsArg<M>): Promise<ResultOf[M]>
  /** `call` answered by callback, for pipelines (no promise per request). */
  request<M extends Method>(
    method: M,
    params: ParamsOf<M> | undefined,
    done: (error: Error | undefined, result?: ResultOf[M]) => void,
  ): void
  onNotification(listener: (method: string, params: unknown) => void): void
  onClose(listener: (error: Error | undefined) => void): void
  close(): void
}

/** Told once: the error, or the result. */
type Pending = (error: Error | undefined, result?: unknown) => void

/** How long the daemon may stay silent while a request of no special kind waits. */
export const REQUEST_TIMEOUT_MS = 5000
/** `send` waits up to its own `timeout` for the peer's ack; the daemon gets this much more to answer. */
export const SEND_TIMEOUT_MARGIN_MS = 5000
/** Methods that ask the discovery server (its requests time out after 5 s, and may be several). */
const SERVER_METHODS: ReadonlySet<string> = new Set(['discover', 'trust'])
const SERVER_REQUEST_TIMEOUT_MS = 15_000

/** Pure: how long `method` may go unanswered before the daemon counts as not responding. */
export function requestAllowanceMs(method: string, params: unknown): number {
  if (method === 'send') {
    const timeout = (params as { timeout?: unknown } | undefined)?.timeout
    return (typeof timeout === 'number' ? timeout : DEFAULT_SEND_TIMEOUT_S) * 1000 + SEND_TIMEOUT_MARGIN_MS
  }
  return SERVER_METHODS.has(method) ? SERVER_REQUEST_TIMEOUT_MS : REQUEST_TIMEOUT_MS
}

interface RpcResponse {
  id?: number | string | null
  method?: string
  params?: unknown
  result?: unknown
  error?: { code: number; message: string; data?: { code?: string } }
}

export interface ControlClientOptions {
  /** What to tell the user when nothing answers on the socket (how to start the daemon). */
  notRunningMessage: string
  /** What to tell the user when the daemon accepts the connection but answers nothing for `seconds`. */
  notRespondingMessage?: (seconds: number) => string
  /** One deadline for every request instead of requestAllowanceMs (a probe while the daemon starts). */
  timeoutMs?: number
}

export class ControlClient implements DaemonClient {
  private socket: Socket | undefined
  private connecting: Promise<Socket> | undefined
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  /** The longest allowance among the calls pending; the watchdog fires after that much silence. */
  private allowanceMs = 0
  private watchdog: NodeJS.Timeout | undefined
  /** When the daemon last heard from us or we from it: the watchdog measures silence from here. */
  private lastActivityAt = 0
  private buffer = ''
  /** Request lines of this turn, written together at its end. */
  private outgoing = ''
  private closedByUs = false
  private failure: Error | undefined
  private readonly notificationListeners: Array<(method: string, params: unknown) => void> = []
  private readonly closeListeners: Array<(error: Error | undefined) => void> = []

  constructor(
    readonly socketPath: string,
    private readonly options: ControlClientOptions,
  ) {}

  /** Connects (once); rejects with daemon_not_running when no daemon listens on the socket. */
  connect(): Promise<Socket> {
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const socket = connect(this.socketPath)
      socket.setEncoding('utf8')
      const onConnectError = (error: NodeJS.ErrnoException) => {
        this.failure = connectError(error, this.socketPath, this.options.notRunningMessage)
        reject(this.failure)
      }
      socket.once('error', onConnectError)
      socket.once('connect', () => {
        socket.off('error', onConnectError)
        this.socket = socket
        socket.on('data', (chunk: string) => this.onData(chunk))
        socket.on('error', (error) => {
          this.failure ??= new P2PError(ErrorCode.DaemonUnreachable, `lost the connection to the daemon: ${error.message}`)
        })
        socket.on('close', () => this.handleClose())
        resolve(socket)
      })
    })
    return this.connecting
  }

  /** One request; resolves with its result or rejects with a P2PError carrying the daemon's code. */
  call<M extends Method>(method: M, ...[params]: ParamsArg<M>): Promise<ResultOf[M]> {
    return new Promise<ResultOf[M]>((resolve, reject) => {
      this.request(method, params as ParamsOf<M>, (error, result) => (error ? reject(error) : resolve(result as ResultOf[M])))
    })
  }

  /**
   * The same request, answered by callback: what a pipeline of 100,000 sends uses, where a promise
   * per call (and the promise that marks it handled) were most of the CLI's garbage. Once
   * connected a request goes out without waiting for anything.
   */
  request<M extends Method>(
    method: M,
    params: ParamsOf<M> | undefined,
    done: (error: Error | undefined, result?: ResultOf[M]) => void,
  ): void {
    if (this.failure) {
      done(this.failure)
      return
    }
    const id = this.nextId++
    this.pending.set(id, done as Pending)
    // The deadline runs from now, connecting included.
    this.allowanceMs = Math.max(this.allowanceMs, this.options.timeoutMs ?? requestAllowanceMs(method, params))
    this.armWatchdog()
    const line = `${JSON.stringify(params !== undefined ? { jsonrpc: '2.0', id, method, params } : { jsonrpc: '2.0', id, method })}\n`
    if (this.socket) this.write(this.socket, line)
    else
      this.connect().then(
        (socket) => {
          if (this.failure) this.settle(id)?.(this.failure)
          else if (this.pending.has(id)) this.write(socket, line)
        },
        (error: Error) => this.settle(id)?.(error),
      )
  }

  onNotification(listener: (method: string, params: unknown) => void): void {
    this.notificationListeners.push(listener)
  }

  /** Called once when the connection ends; `error` is set unless we closed it ourselves. */
  onClose(listener: (error: Error | undefined) => void): void {
    this.closeListeners.push(listener)
  }

  close(): void {
    this.closedByUs = true
    clearTimeout(this.watchdog)
    this.socket?.destroy()
  }

  /** Takes `id` off the pending calls; the watchdog stops when none is left. */
  private settle(id: number): Pending | undefined {
    const waiting = this.pending.get(id)
    this.pending.delete(id)
    if (this.pending.size === 0) {
      clearTimeout(this.watchdog)
      this.watchdog = undefined
      this.allowanceMs = 0
    }
    return waiting
  }

  private write(socket: Socket, line: string): void {
    if (this.outgoing === '') setImmediate(() => this.flushOutgoing(socket))
    this.outgoing += line
  }

  private flushOutgoing(socket: Socket): void {
    const data = this.outgoing
    this.outgoing = ''
    if (!socket.destroyed) socket.write(data)
  }

  /**
   * (Re)starts the silence deadline: on every call and every answer, so a long pipeline that moves
   * never trips it. One timer at a time, moved on when it fires early: a timer per call was a
   * measurable share of a long pipeline.
   */
  private armWatchdog(): void {
    this.lastActivityAt = Date.now()
    if (this.pending.size === 0 || this.watchdog) return
    this.watchdog = setTimeout(() => this.checkSilence(), this.allowanceMs)
  }

  private checkSilence(): void {
    this.watchdog = undefined
    if (this.pending.size === 0) return
    const ms = this.allowanceMs
    const silentFor = Date.now() - this.lastActivityAt
    if (silentFor >= ms) this.notResponding(ms)
    else this.watchdog = setTimeout(() => this.checkSilence(), ms - silentFor)
  }

  private notResponding(ms: number): void {
    const seconds = Math.round(ms / 100) / 10
    const message =
      this.options.notRespondingMessage?.(seconds) ?? `the daemon at ${this.socketPath} does not answer (nothing in ${seconds} s)`
    const error = new P2PError(ErrorCode.DaemonNotResponding, message)
    this.failure = error
    for (const waiting of this.pending.values()) waiting(error)
    this.pending.clear()
    this.allowanceMs = 0
    this.watchdog = undefined
    this.socket?.destroy()
  }

  private onData(chunk: string): void {
    // One split per chunk: a burst of pipelined responses is many lines in one chunk.
    const lines = (this.buffer + chunk).split('\n')
    this.buffer = lines.pop() ?? ''
    for (const line of lines) if (line.trim()) this.onLine(line)
    if (this.pending.size > 0) this.armWatchdog()
  }

  private onLine(line: string): void {
    let message: RpcResponse
    try {
      message = JSON.parse(line) as RpcResponse
    } catch {
      return // Not ours to fix; the daemon only writes JSON.
    }
    if (message.method !== undefined && message.id === undefined) {
      for (const listener of this.notificationListeners) listener(message.method, message.params)
      return
    }
    if (typeof message.id !== 'number') return
    const waiting = this.settle(message.id)
    if (!waiting) return
    if (message.error) {
      const code = message.error.data?.code ?? ErrorCode.Internal
      waiting(new P2PError(code as ErrorCode, message.error.message))
    } else {
      waiting(undefined, message.result)
    }
  }

  private handleClose(): void {
    clearTimeout(this.watchdog)
    const error = this.closedByUs
      ? new P2PError(ErrorCode.DaemonUnreachable, 'the connection to the daemon was closed')
      : (this.failure ?? new P2PError(ErrorCode.DaemonUnreachable, 'the daemon closed the connection (it stopped or crashed)'))
    this.failure = error
    for (const waiting of this.pending.values()) waiting(error)
    this.pending.clear()
    for (const listener of this.closeListeners) listener(this.closedByUs ? undefined : error)
  }
}

/** Incoming messages after `subscribe`; other notifications (kinds added later) are skipped. */
export function onMessageEvent(client: Pick<DaemonClient, 'onNotification'>, listener: (event: MessageEvent) => void): void {
  onDaemonEvent(client, (event) => {
    if (event.type === 'message') listener(event)
  })
}

/** Calls `listener` with every `event` notification after `subscribe`: messages and notices alike. */
export function onDaemonEvent(client: Pick<DaemonClient, 'onNotification'>, listener: (event: DaemonEvent) => void): void {
  client.onNotification((method, params) => {
    if (method === 'event' && typeof (params as DaemonEvent | undefined)?.type === 'string') listener(params as DaemonEvent)
  })
}

/** One request on a connection of its own, closed once answered. */
export async function callOnce<M extends Method>(socketPath: string, method: M, ...params: ParamsArg<M>): Promise<ResultOf[M]> {
  const client = new ControlClient(socketPath, { notRunningMessage: `no daemon answers on ${socketPath}` })
  try {
    return await client.call(method, ...params)
  } finally {
    client.close()
  }
}

function connectError(error: NodeJS.ErrnoException, socketPath: string, notRunning: string): P2PError {
  // No socket file, or a file nobody listens on (a crashed daemon's leftover): not running.
  if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'ENOTSOCK') {
    return new P2PError(ErrorCode.DaemonNotRunning, notRunning)
  }
  return new P2PError(ErrorCode.DaemonUnreachable, `cannot reach the daemon at ${socketPath}: ${error.message}`)
}
