/**
 * One HTTP request with node:http (node:https loaded only for an https URL), the body read whole.
 * The daemon used the global fetch before: its first call loads undici, which kept about 12 MB
 * resident in an idle daemon that makes one keep-alive request every few seconds
 * (BENCHMARKS.md, B9), against about 4 MB for node:http.
 */
import type { IncomingMessage, RequestOptions } from 'node:http'

export interface HttpAnswer {
  status: number
  text: string
}

export interface HttpRequest {
  method: string
  headers?: Record<string, string>
  body?: string
  /** Aborts the request, the body's download included; the call rejects with an error. */
  signal: AbortSignal
}

export async function httpRequest(url: URL, request: HttpRequest): Promise<HttpAnswer> {
  const { request: send } = url.protocol === 'https:' ? await import('node:https') : await import('node:http')
  const headers = {
    ...request.headers,
    ...(request.body !== undefined ? { 'content-length': String(Buffer.byteLength(request.body)) } : {}),
  }
  const options: RequestOptions = { method: request.method, headers, signal: request.signal }
  return new Promise<HttpAnswer>((resolve, reject) => {
    const outgoing = send(url, options, (response: IncomingMessage) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.once('error', reject)
      // Aborted mid-body: the response ends early with an error, or closes without 'end'.
      response.once('close', () => {
        if (!response.complete) reject(request.signal.reason ?? new Error('the connection closed before the whole answer came'))
      })
      response.once('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
    })
    outgoing.once('error', reject)
    outgoing.end(request.body)
  })
}
