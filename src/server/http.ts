/** The few node:http chores the server needs: reading a capped body, answering JSON, naming the client. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ErrorCode, errorBody } from '../protocol/errors.js'

/** Thrown by handlers and helpers; the app turns it into `{"error":{code,message}}` with `status`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

/** What a handler answers: a status and, unless 204 or 304, a JSON body (or that body already serialized, in `json`). */
export interface Reply {
  status: number
  body?: unknown
  json?: string
  headers?: Record<string, string>
}

/**
 * nginx's status for "client closed request": never sent, nobody is left to read it. The app
 * answers nothing then, and the server logs it at debug level (main.ts): not a server error.
 */
export const CLIENT_CLOSED_REQUEST = 499

/**
 * Reads the whole body, refusing it with 413 as soon as it passes `maxBytes`: a declared
 * Content-Length over the cap is refused before a byte is read, and a chunked body is refused the
 * moment it grows too big. Either way nothing past the cap is kept in memory. A client that closes
 * the connection before its body is complete gets a CLIENT_CLOSED_REQUEST error.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, ErrorCode.TooLarge, `request body is over ${maxBytes} bytes`, { connection: 'close' })
  const clientClosed = () =>
    new HttpError(CLIENT_CLOSED_REQUEST, ErrorCode.BadRequest, 'the client closed the connection before its request body was complete')
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge())
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        cleanup()
        chunks.length = 0
        reject(tooLarge())
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(Buffer.concat(chunks, size))
    }
    // Node reports a client gone mid-body as an "aborted" error (ECONNRESET), or only as a close.
    const onError = (err: Error) => {
      cleanup()
      reject((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? clientClosed() : err)
    }
    const onClose = () => {
      cleanup()
      reject(clientClosed())
    }
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
  })
}

/** Pure: the JSON value of a body, or a 400. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw new HttpError(400, ErrorCode.BadRequest, 'request body is not valid JSON')
  }
}

export function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string | number> = { ...reply.headers }
  if (reply.status === 204 || reply.status === 304 || (reply.body === undefined && reply.json === undefined)) {
    res.writeHead(reply.status, headers).end()
    return
  }
  const json = reply.json ?? JSON.stringify(reply.body)
  headers['content-type'] = 'application/json; charset=utf-8'
  headers['content-length'] = Buffer.byteLength(json)
  res.writeHead(reply.status, headers).end(json)
}

export function errorReply(err: HttpError): Reply {
  return { status: err.status, body: errorBody(err.code, err.message), headers: err.headers }
}

/** Pure: the client's address as people write it (`::ffff:10.0.0.1` is just `10.0.0.1`). */
export function normalizeAddress(address: string | undefined): string | undefined {
  if (!address) return undefined
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address
}
