/**
 * The discovery server's HTTP surface (SPEC section 3): request and response bodies, and the
 * canonical bytes each signed request covers. Server and daemon both import this file, so the two
 * can never disagree on what a signature means.
 */
import { z } from 'zod'
import { isValidUserId, normalizeUserId, USER_ID_RULE } from './user-id.js'

// What signs and checks requests needs no zod (the daemon signs one every keep-alive): it has a module of its own.
export {
  canonicalBytes,
  isDirectlyReachable,
  isFreshTimestamp,
  type LeaseBody,
  type SignedAction,
  signLeaseRequest,
  signRegister,
  TIMESTAMP_WINDOW_MS,
  verifySigned,
} from './discovery-signing.js'

/** Request bodies over this are refused with 413 before parsing. */
export const MAX_BODY_BYTES = 16 * 1024

export const UserIdSchema = z
  .string()
  .refine(isValidUserId, { message: `user id must be ${USER_ID_RULE}` })
  .transform(normalizeUserId)

export const PublicKeySchema = z.string().regex(/^[0-9a-f]{64}$/, 'publicKey must be 64 lower-case hex characters (Ed25519)')
const SignatureSchema = z.string().regex(/^[0-9a-f]{128}$/, 'sig must be 128 lower-case hex characters (Ed25519)')
const TimestampSchema = z.number().int().nonnegative()
/**
 * 0 says "no direct address: reach me through the relay" (`daemon start --listen off`, SPEC
 * section 9); peers then dial through the relay at once instead of waiting on a dead address.
 */
const PortSchema = z.number().int().min(0).max(65535)

// A host name or an IPv4/IPv6 literal; no scheme, no path.
const HostSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:_-]+$/, 'host must be a host name or an IP address')

/**
 * Which running daemon speaks: the same key from two places (a copied profile) must not split one
 * user's messages between two daemons. Optional, so plain clients (curl) still work without it.
 */
const InstanceSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'instance must be 8 to 64 characters of A-Z a-z 0-9 _ -')

export const RegisterRequestSchema = z.strictObject({
  userId: UserIdSchema,
  publicKey: PublicKeySchema,
  port: PortSchema,
  host: HostSchema.optional(),
  instance: InstanceSchema.optional(),
  ts: TimestampSchema,
  sig: SignatureSchema,
})
export const UnregisterRequestSchema = z.strictObject({
  userId: UserIdSchema,
  instance: InstanceSchema.optional(),
  ts: TimestampSchema,
  sig: SignatureSchema,
})
/** A keep-alive proves itself with `sig` (Ed25519) or with `mac`, the lease proof (lease-proof.ts): exactly one. */
export const KeepaliveRequestSchema = z
  .strictObject({
    userId: UserIdSchema,
    instance: InstanceSchema.optional(),
    ts: TimestampSchema,
    sig: SignatureSchema.optional(),
    mac: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'mac must be 64 lower-case hex characters (HMAC-SHA256)')
      .optional(),
  })
  .refine((b) => (b.sig === undefined) !== (b.mac === undefined), { message: 'exactly one of sig and mac is required', path: ['sig'] })

export type RegisterRequest = z.infer<typeof RegisterRequestSchema>
export type KeepaliveRequest = z.infer<typeof KeepaliveRequestSchema>
export type UnregisterRequest = z.infer<typeof UnregisterRequestSchema>

export const RegisterResponseSchema = z.object({
  userId: z.string(),
  host: z.string(),
  port: PortSchema,
  expiresAt: z.string(),
  /** The lease key sealed to the registering key (lease-proof.ts); absent from servers without it. */
  leaseKey: z
    .string()
    .regex(/^[0-9a-f]{1,512}$/)
    .optional(),
})
export const KeepaliveResponseSchema = z.object({ expiresAt: z.string() })
export const PeerRecordSchema = z.object({
  userId: z.string(),
  publicKey: PublicKeySchema,
  host: z.string(),
  port: PortSchema,
  lastSeen: z.string(),
})
export const PeerListSchema = z.object({ peers: z.array(PeerRecordSchema), next: z.string().optional() })
export const ErrorResponseSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) })

export type RegisterResponse = z.infer<typeof RegisterResponseSchema>
export type KeepaliveResponse = z.infer<typeof KeepaliveResponseSchema>
export type PeerRecord = z.infer<typeof PeerRecordSchema>
export type PeerList = z.infer<typeof PeerListSchema>

export const PeerListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(64).optional(),
})
