/** In-process helpers for the server tests: a real server on port 0, signed request bodies, a tiny HTTP client. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { signLeaseRequest, signRegister } from '../../src/protocol/discovery.js'
import { generateIdentity, type Identity, toHex } from '../../src/protocol/identity.js'
import { type DiscoveryServer, type DiscoveryServerOptions, startDiscoveryServer } from '../../src/server/main.js'

export type Backend = 'memory' | 'sqlite'

export interface TestServer extends DiscoveryServer {
  logs: Record<string, unknown>[]
}

/** Starts a server on 127.0.0.1:0 with logs captured in memory and no rate limit unless asked. */
export async function startTestServer(backend: Backend, options: Partial<DiscoveryServerOptions> = {}): Promise<TestServer> {
  const logs: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line))
      done()
    },
  })
  const storage = backend === 'memory' ? { memory: true } : { dbPath: join(mkdtempSync(join(tmpdir(), 'p2p-reg-')), 'registry.db') }
  const server = await startDiscoveryServer({
    host: '127.0.0.1',
    port: 0,
    rateLimit: false,
    logger: pino({ level: 'debug' }, sink),
    ...storage,
    ...options,
  })
  return Object.assign(server, { logs })
}

export interface User {
  userId: string
  identity: Identity
  publicKey: string
}

export function makeUser(userId: string, identity = generateIdentity()): User {
  return { userId, identity, publicKey: toHex(identity.publicKey) }
}

// Each call gets a distinct ts so that two honest requests are never mistaken for a replay.
let lastTs = 0
export function freshTs(): number {
  lastTs = Math.max(Date.now(), lastTs + 1)
  return lastTs
}

export function registerBody(user: User, fields: { port?: number; host?: string; ts?: number } = {}) {
  return signRegister(user.identity, { userId: user.userId, port: fields.port ?? 7000, host: fields.host, ts: fields.ts ?? freshTs() })
}

export function leaseBody(user: User, action: 'keepalive' | 'unregister', ts = freshTs()) {
  return signLeaseRequest(user.identity, action, { userId: user.userId, ts })
}

export interface JsonResponse {
  status: number
  headers: Headers
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely and assert on them
  json: any
}

export async function request(base: string, method: string, path: string, body?: unknown): Promise<JsonResponse> {
  const init: RequestInit = { method }
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
    init.headers = { 'content-type': 'application/json' }
  }
  const res = await fetch(base + path, init)
  const text = await res.text()
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined }
}

export const post = (base: string, path: string, body: unknown) => request(base, 'POST', path, body)
export const get = (base: string, path: string) => request(base, 'GET', path)
