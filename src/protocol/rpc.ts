/**
 * The control protocol (SPEC section 8): JSON-RPC 2.0, one JSON object per line, on the
 * profile's Unix socket. Param schemas are validated by the daemon; result types are what the CLI
 * (and any other client: socat, scripts) gets back.
 *
 * The CLI imports only the types and the error-code table from here (`import type`), so a one-shot
 * command never pays for loading zod.
 */
import { z } from 'zod'
import { CURSOR_PATTERN, MAX_HISTORY_LIMIT, MAX_SEND_TIMEOUT_S } from './defaults.js'
import { UserIdSchema } from './discovery.js'
import { parseDurationSeconds } from './duration.js'
import { TextSchema } from './peer-frames.js'

export * from './rpc-codes.js'

export const RpcRequestSchema = z.object({
  jsonrpc: z.literal('2.0'),
  id: z.union([z.string().max(128), z.number(), z.null()]).optional(),
  method: z.string().max(64),
  params: z.unknown().optional(),
})
export type RpcRequest = z.infer<typeof RpcRequestSchema>

const PeerParam = UserIdSchema
const CursorSchema = z.string().regex(CURSOR_PATTERN, 'cursor must be a number as printed by watch --json')

export const MethodParams = {
  /** `verbose`: also the daemon's actors and their states (p2p daemon status --verbose). */
  status: z.object({ verbose: z.boolean().optional() }).optional(),
  discover: z.object({}).optional(),
  peers: z.object({}).optional(),
  send: z.object({
    to: PeerParam,
    text: TextSchema,
    /** Seconds to wait for the peer's acknowledgement before answering "queued"; 0 = do not wait. */
    timeout: z.number().min(0).max(MAX_SEND_TIMEOUT_S).optional(),
  }),
  block: z.object({ peer: PeerParam }),
  unblock: z.object({ peer: PeerParam }),
  mute: z.object({
    peer: PeerParam,
    for: z
      .union([z.number(), z.string()])
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined
        const seconds = parseDurationSeconds(v)
        if (seconds === undefined) ctx.addIssue({ code: 'custom', message: `"for" must be a duration such as 30m, 2h or 90 (seconds)` })
        return seconds
      }),
  }),
  unmute: z.object({ peer: PeerParam }),
  trust: z.object({
    peer: PeerParam,
    /** The fingerprint compared with the peer out of band: only the key that has it is pinned. */
    fingerprint: z
      .string()
      .regex(/^[0-9a-fA-F]{4}(-?[0-9a-fA-F]{4}){4}$/, 'a fingerprint looks like c69f-634c-289c-27a4-1df7')
      .optional(),
  }),
  history: z
    .object({
      peer: PeerParam.optional(),
      limit: z.number().int().min(1).max(MAX_HISTORY_LIMIT).optional(),
      includeMuted: z.boolean().optional(),
    })
    .optional(),
  subscribe: z.object({ since: CursorSchema.optional() }).optional(),
  shutdown: z.object({}).optional(),
} as const

export type MethodName = keyof typeof MethodParams
export type ParamsOf<M extends MethodName> = z.input<(typeof MethodParams)[M]>
export type ParsedParamsOf<M extends MethodName> = z.output<(typeof MethodParams)[M]>

export interface StatusResult {
  running: true
  pid: number
  userId: string
  fingerprint: string
  publicKey: string
  listen: { host: string; port: number }
  /** `errorCode`: the server's error code for the last failure, or `server_unreachable` when it did not answer. */
  server: { url: string; registered: boolean; error?: string; errorCode?: string }
  /** The daemon's relay connection (SPEC section 9); `error` says why it is down. */
  relay?: { connected: boolean; error?: string }
  peers: { online: number; connected: number; keyChanged: number }
  outbox: { queued: number; failed: number }
  /** Queued messages left in peers' mailboxes, and items taken from mine since the daemon started. */
  mailbox?: { deposited: number; received: number; error?: string }
  uptimeS: number
  version: string
  home: string
  /** The control socket this answer came through (it may be a fallback path, see profile.ts). */
  socket: string
  /** With `verbose`: the daemon's actor tree, parents first. */
  actors?: ActorInfo[]
  /** With `verbose`: each peer-link actor's state. */
  links?: Array<{ peer: string; state: string }>
}

/** One actor of the daemon's actor system, as `status --verbose` shows it. */
export interface ActorInfo {
  /** Its systemId (or id). */
  id: string
  /** 0 for the root, 1 for its children, and so on. */
  depth: number
  state: string
}

export interface PeerInfo {
  userId: string
  online: boolean
  host?: string
  port?: number
  fingerprint?: string
  lastSeen?: string
  connected?: boolean
  /** How the live link runs, while there is one: straight to the peer, or spliced through the relay. */
  link?: 'direct' | 'relayed'
  /** The peer presented a key other than the pinned one; the link is refused until that is resolved. */
  keyChanged?: boolean
  presentedFingerprint?: string
  blocked: boolean
  muted: boolean
  mutedUntil?: string
}

/** `mailbox`: queued, and left sealed in the peer's mailbox at the discovery server (SPEC section 10). */
export type DeliveryStatus = 'delivered' | 'mailbox' | 'queued' | 'failed'

export interface SendResult {
  id: string
  to: string
  status: DeliveryStatus
}

export interface PolicyResult {
  peer: string
  changed: boolean
  blocked: boolean
  muted: boolean
  mutedUntil?: string
}

export interface TrustResult {
  peer: string
  changed: boolean
  /** The key now pinned. */
  fingerprint: string
  /** The key pinned before, when it changed. */
  previousFingerprint?: string
}

export interface HistoryEntry {
  id: string
  from: string
  to: string
  text: string
  at: string
  /** Outgoing messages: where delivery stands. */
  status?: DeliveryStatus
  /** Incoming messages: received while the sender was muted. */
  muted?: boolean
}

export interface SubscribeResult {
  /** The newest cursor at the time of subscribing; events after it follow as notifications. */
  cursor: string
}

/** `event` notification params. `type` lets new kinds of event be added without breaking clients. */
export interface MessageEvent {
  type: 'message'
  cursor: string
  id: string
  from: string
  text: string
  at: string
}

/** `event` notification: a timed mute ran out; the peer's messages show again. */
export interface MuteEndedEvent {
  type: 'muteEnded'
  peer: string
  at: string
}

/** Every kind of `event` notification; clients skip the types they do not know. */
export type DaemonEvent = MessageEvent | MuteEndedEvent

export interface ResultOf {
  status: StatusResult
  discover: PeerInfo[]
  peers: PeerInfo[]
  send: SendResult
  block: PolicyResult
  unblock: PolicyResult
  mute: PolicyResult
  unmute: PolicyResult
  trust: TrustResult
  history: HistoryEntry[]
  subscribe: SubscribeResult
  shutdown: { stopping: true }
}
