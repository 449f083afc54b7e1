/** A DaemonClient that answers from a table: for running commands in process without a daemon. */
import type { DaemonClient, Method, ParamsArg } from '../../src/cli/control-client.js'
import { ErrorCode, P2PError } from '../../src/protocol/errors.js'
import type { ParamsOf, ResultOf } from '../../src/protocol/rpc.js'

export type FakeAnswers = { [M in Method]?: (params: ParamsOf<M>) => ResultOf[M] | Promise<ResultOf[M]> }

export class FakeClient implements DaemonClient {
  /** Every request, in order. */
  readonly calls: Array<{ method: Method; params: unknown }> = []
  closed = false
  private readonly notificationListeners: Array<(method: string, params: unknown) => void> = []

  constructor(private readonly answers: FakeAnswers) {}

  async call<M extends Method>(method: M, ...[params]: ParamsArg<M>): Promise<ResultOf[M]> {
    this.calls.push({ method, params })
    const answer = this.answers[method] as ((params: unknown) => ResultOf[M] | Promise<ResultOf[M]>) | undefined
    if (!answer) throw new P2PError(ErrorCode.Internal, `the fake daemon has no answer for ${method}`)
    return answer(params)
  }

  request<M extends Method>(
    method: M,
    params: ParamsOf<M> | undefined,
    done: (error: Error | undefined, result?: ResultOf[M]) => void,
  ): void {
    ;(this.call as (method: M, params: unknown) => Promise<ResultOf[M]>)(method, params).then(
      (result) => done(undefined, result),
      (error: Error) => done(error),
    )
  }

  onNotification(listener: (method: string, params: unknown) => void): void {
    this.notificationListeners.push(listener)
  }

  /** What the daemon would push on this connection. */
  notify(method: string, params: unknown): void {
    for (const listener of this.notificationListeners) listener(method, params)
  }

  onClose(): void {}

  close(): void {
    this.closed = true
  }
}

/** An answer that fails the way the daemon fails: a P2PError with its stable code. */
export const fails =
  (code: ErrorCode, message = `fake ${code}`) =>
  (): never => {
    throw new P2PError(code, message)
  }
