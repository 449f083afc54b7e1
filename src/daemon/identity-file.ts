/**
 * The profile's private key: 32 bytes of Ed25519 seed as hex in `identity.key`, mode 0600,
 * created on first start. The key is written to a temp name and hard-linked into place: a crash
 * never leaves a half-written key, and of two first starts racing, the second finds the first's
 * key instead of replacing it (a replaced key would no longer match the server's binding).
 */
import { existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { generateIdentity, type Identity, identityFromSeed } from '../protocol/identity.js'

export function loadOrCreateIdentity(path: string): { identity: Identity; created: boolean } {
  if (existsSync(path)) return { identity: readIdentity(path), created: false }
  const identity = generateIdentity()
  const temp = `${path}.tmp-${process.pid}`
  writeFileSync(temp, `${identity.seed.toString('hex')}\n`, { mode: 0o600 })
  try {
    linkSync(temp, path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return { identity: readIdentity(path), created: false }
  } finally {
    unlinkSync(temp)
  }
  return { identity, created: true }
}

function readIdentity(path: string) {
  const hex = readFileSync(path, 'utf8').trim()
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new P2PError(ErrorCode.Internal, `${path} is not a p2p identity key (64 hex characters)`)
  return identityFromSeed(Buffer.from(hex, 'hex'))
}
