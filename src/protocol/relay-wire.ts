/**
 * The relay's wire format (SPEC section 9; relay.ts says how it runs) without its schemas: the
 * paths, encoding, the challenge's signature and line splitting. relay.ts re-exports all of it;
 * the daemon imports it from here, so that its relay connection loads no zod.
 */
import { fromHex, type Identity, sign, toHex, verify } from './identity.js'
import type { RelayClientFrame, RelayServerFrame } from './relay.js'
import { normalizeUserId } from './user-id.js'

export const RELAY_PATH = '/v1/relay'
export const RELAY_CIRCUIT_PATH = '/v1/relay/circuit/'
/** The Upgrade token both kinds of relay connection ask for. */
export const RELAY_PROTOCOL = 'p2p-relay'
/** A control line is a few hundred bytes; anything much longer is not from a daemon. */
export const MAX_RELAY_LINE_BYTES = 4096

export function encodeRelayFrame(frame: RelayClientFrame | RelayServerFrame): string {
  return `${JSON.stringify(frame)}\n`
}

/** The bytes a relay challenge answer signs: tagged, so no other signature of the key can pass for one. */
export function relayAuthBytes(userId: string, nonce: string): Buffer {
  return Buffer.from(JSON.stringify(['p2p/v1/relay-auth', normalizeUserId(userId), nonce]), 'utf8')
}

export function signRelayChallenge(identity: Identity, userId: string, nonce: string): RelayClientFrame {
  return { t: 'auth', userId: normalizeUserId(userId), sig: toHex(sign(identity, relayAuthBytes(userId, nonce))) }
}

export function verifyRelayAuth(publicKeyHex: string, userId: string, nonce: string, sigHex: string): boolean {
  return verify(fromHex(publicKeyHex), relayAuthBytes(userId, nonce), fromHex(sigHex))
}

/** Splits JSON lines off a byte stream, refusing a line over `maxBytes` (the connection is then closed). */
export class RelayLineReader {
  private partial = ''

  constructor(private readonly maxBytes = MAX_RELAY_LINE_BYTES) {}

  push(chunk: Buffer): string[] | 'overflow' {
    const text = this.partial + chunk.toString('utf8')
    const lines = text.split('\n')
    this.partial = lines.pop() ?? ''
    if (this.partial.length > this.maxBytes || lines.some((l) => l.length > this.maxBytes)) return 'overflow'
    return lines.filter((l) => l.length > 0)
  }
}
