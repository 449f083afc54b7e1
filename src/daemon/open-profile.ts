/**
 * Opening a profile for a daemon: its private directory, log, database, settings and identity.
 * The first start of a profile records the user id and server; later starts need no flags.
 */
import { createHash } from 'node:crypto'
import { chmodSync, mkdirSync, realpathSync } from 'node:fs'
import { hostname } from 'node:os'
import pino, { type Logger } from 'pino'
import { isListenValue, parseAdvertise } from '../protocol/advertise.js'
import { DEFAULT_SERVER_URL } from '../protocol/defaults.js'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { fingerprint, type Identity } from '../protocol/identity.js'
import { type ProfilePaths, profilePaths } from '../protocol/profile.js'
import { checkServerUrl } from '../protocol/server-url.js'
import { isValidUserId, normalizeUserId, USER_ID_RULE } from '../protocol/user-id.js'
import { loadOrCreateIdentity } from './identity-file.js'
import { startCheckpointer } from './stores/checkpointer.js'
import { type Db, openDatabase } from './stores/database.js'
import { SettingsStore } from './stores/settings-store.js'
import { type Durability, WalSync } from './stores/wal-sync.js'
import type { Teardown } from './teardown.js'

export { DEFAULT_SERVER_URL }

export interface StartSettings {
  userId: string
  port: number
  serverUrl: string
  /** Where to listen: a host, or `off` for no listener at all; undefined: dual-stack (`::`, else 0.0.0.0). */
  listen?: string
  /** The address others should dial (HOST[:PORT]); undefined: the server records the requests' source. */
  advertise?: string
}

type StartFlags = { userId?: string; port?: number; serverUrl?: string; listen?: string; advertise?: string }

export interface OpenProfile {
  paths: ProfilePaths
  /** Which daemon this is, to the discovery server: the same on every restart here, another for a copy of the profile. */
  instance: string
  log: Logger
  db: Db
  /** Syncs the database's commits to disk: what makes an acknowledgement survive a power loss. */
  durability: Durability
  identity: Identity
  settings: StartSettings
  /** The server accepted this user id: from now on the profile belongs to it. */
  confirmUserId(): void
}

/** Pure: the settings a start uses, from its flags and what the profile remembers. */
export function resolveStartSettings(
  flags: StartFlags,
  stored: { userId?: string; port?: string; serverUrl?: string; listen?: string; advertise?: string; userIdBound?: string },
): StartSettings {
  const userId = flags.userId ? normalizeUserId(flags.userId) : stored.userId
  if (!userId) throw new P2PError(ErrorCode.NotConfigured, 'this profile has no user yet: start it once with --user ID')
  if (!isValidUserId(userId)) throw new P2PError(ErrorCode.InvalidUserId, `invalid user id "${flags.userId}": ${USER_ID_RULE}`)
  // A user id the server never accepted (taken, mistyped) may still be replaced; profiles from
  // before this flag existed have none and count as bound.
  if (stored.userId && stored.userId !== userId && stored.userIdBound !== 'no') {
    throw new P2PError(ErrorCode.Usage, `this profile belongs to ${stored.userId}; use another --home for ${userId}`)
  }
  return {
    userId,
    port: flags.port ?? (stored.port !== undefined ? Number(stored.port) : 0),
    // A malformed URL is refused before it is stored: a daemon that "runs" against it never works.
    serverUrl: checkServerUrl(flags.serverUrl ?? stored.serverUrl ?? DEFAULT_SERVER_URL),
    ...addressSetting('listen', flags.listen ?? stored.listen, isListenValue),
    ...addressSetting('advertise', flags.advertise ?? stored.advertise, (v) => parseAdvertise(v) !== undefined),
  }
}

/** Pure: a remembered address setting; an empty value (`--advertise ''`) clears it. A malformed one is refused before it is stored. */
function addressSetting(name: 'listen' | 'advertise', value: string | undefined, valid: (v: string) => boolean) {
  if (!value) return {}
  if (!valid(value))
    throw new P2PError(ErrorCode.Usage, `--${name}: "${value}" is not ${name === 'listen' ? 'a host or off' : 'HOST[:PORT]'}`)
  return { [name]: value }
}

/** Opens the profile at `home`; what it opens is pushed on `teardown`. */
export function openProfile(options: { home: string; logger?: Logger } & StartFlags, teardown: Teardown): OpenProfile {
  const paths = profilePaths(options.home)
  mkdirSync(paths.home, { recursive: true, mode: 0o700 })
  chmodSync(paths.home, 0o700)
  const log = options.logger ?? pino({ base: { pid: process.pid } }, pino.destination({ dest: paths.log, sync: true, mkdir: true }))
  const db = openDatabase(paths.database)
  teardown.push('close the database', () => db.close())
  const durability = new WalSync(paths.database)
  teardown.push('close the WAL sync', () => durability.close())
  // WAL checkpoints in a worker thread while there are any to do; stopped just before the database closes.
  const checkpointer = startCheckpointer(paths.database, {
    onError: (error) => log.error({ err: error }, 'checkpointer failed'),
    sync: () => durability.sync(),
  })
  teardown.push('stop the checkpointer', () => checkpointer.stop())
  const store = new SettingsStore(db)
  const settings = rememberSettings(store, options)
  const { identity, created } = loadOrCreateIdentity(paths.identity)
  if (created) log.info({ fingerprint: fingerprint(identity.publicKey) }, 'created a new identity')
  const confirmUserId = () => {
    if (store.get('userIdBound') === 'no') store.set('userIdBound', 'yes')
  }
  return { paths, log, db, durability, identity, settings, confirmUserId, instance: instanceId(hostname(), realpathSync(paths.home)) }
}

/**
 * Pure: a daemon instance's id, from the machine and the profile's real path. A daemon restarted
 * after a crash keeps its id (and takes its own lease back at once); a copy of the profile, on
 * another machine or in another directory, gets another id, which the server refuses while the
 * original is online: one user's messages never split silently between two daemons.
 */
export function instanceId(host: string, profilePath: string): string {
  return createHash('sha256').update(`${host}\0${profilePath}`).digest('base64url').slice(0, 22)
}

function rememberSettings(store: SettingsStore, flags: StartFlags): StartSettings {
  const stored = (key: string) => {
    const value = store.get(key)
    return value ? { [key]: value } : {}
  }
  const settings = resolveStartSettings(flags, {
    ...stored('userId'),
    ...stored('port'),
    ...stored('serverUrl'),
    ...stored('userIdBound'),
    ...stored('listen'),
    ...stored('advertise'),
  })
  if (store.get('userId') !== settings.userId) store.set('userIdBound', 'no')
  store.set('userId', settings.userId)
  store.set('serverUrl', settings.serverUrl)
  store.set('port', String(settings.port))
  store.set('listen', settings.listen ?? '')
  store.set('advertise', settings.advertise ?? '')
  return settings
}
