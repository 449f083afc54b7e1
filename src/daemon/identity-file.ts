/**
 * The profile's private key: 32 bytes of Ed25519 seed as hex in `identity.key`, mode 0600,
 * created on first start. The file is written to a temp name and renamed, so a crash can never
 * leave a half-written key.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { generateIdentity, type Identity, identityFromSeed } from '../protocol/identity.js'

export function loadOrCreateIdentity(path: string): { identity: Identity; created: boolean } {
  if (existsSync(path)) {
    const hex = readFileSync(path, 'utf8').trim()
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new P2PError(ErrorCode.Internal, `${path} is not a p2p identity key (64 hex characters)`)
    return { identity: identityFromSeed(Buffer.from(hex, 'hex')), created: false }
  }
  const identity = generateIdentity()
  const temp = `${path}.tmp-${process.pid}`
  writeFileSync(temp, `${identity.seed.toString('hex')}\n`, { mode: 0o600 })
  renameSync(temp, path)
  return { identity, created: true }
}
