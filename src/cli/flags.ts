/**
 * The flags and arguments several commands share, made once (Heroku's flag factories): the daemon
 * settings of `daemon start`, `daemon run` and `chat`, a peer argument, a duration, a cursor.
 * Values are checked while oclif parses, so a typo is a usage error (exit 2) before anything runs,
 * with the same message whichever command it was typed to.
 */
import { Args, Flags } from '@oclif/core'
import { isListenValue, parseAdvertise } from '../protocol/advertise.js'
import { DEFAULT_SERVER_URL } from '../protocol/defaults.js'
import { ErrorCode, P2PError } from '../protocol/errors.js'
import { checkServerUrl } from '../protocol/server-url.js'
import { cursor, durationSeconds, peerId } from './validate.js'

// Here for the commands that import them with the flags; daemon-settings.ts has no oclif in it.
export { type DaemonSettings, daemonSettings, daemonSettingsArgs } from './daemon-settings.js'

/** A user id, lower-cased; an invalid one fails with invalid_user_id (exit 2). */
export const peerArg = Args.custom<string>({
  // oclif would otherwise read a missing argument from piped stdin.
  ignoreStdin: true,
  description: 'user id of the peer',
  parse: async (input) => peerId(input),
})

/** Seconds, typed as 90, 45s, 30m, 2h, 7d or 1h30m. */
export const durationFlag = Flags.custom<number>({
  helpValue: '<duration>',
  parse: async (input) => durationSeconds(input),
})

/** A discovery server URL, or several comma-separated (failover); a malformed one is a usage error before anything is started or stored. */
export const serverUrlFlag = Flags.custom<string>({
  helpValue: '<url>[,<url>...]',
  // Empty counts as not given (daemonSettings), as for --user.
  parse: async (input) => (input === '' ? input : checkServerUrl(input)),
})

/** A cursor from an earlier `watch --json`. */
export const cursorFlag = Flags.custom<string>({
  helpValue: '<cursor>',
  parse: async (input) => cursor(input),
})

/**
 * The daemon's settings as flags. `when` says in whose help they appear: chat only uses them when
 * it has to start the daemon.
 */
export function daemonFlags(when = '') {
  return {
    user: Flags.string({ description: `user id of this profile (needed on first start only)${when}` }),
    port: Flags.integer({ description: `TCP port for peer links (0 = any free port)${when}`, min: 0, max: 65535 }),
    server: serverUrlFlag({
      description: `discovery server URL (default ${DEFAULT_SERVER_URL}); several comma-separated instances of one namespace are tried in turn${when}`,
    }),
    listen: listenFlag({
      description: `address to take peer links on, or off (reachable through the relay only); default dual-stack ::${when}`,
    }),
    advertise: advertiseFlag({ description: `HOST[:PORT] others should dial, e.g. a forwarded port; '' forgets it${when}` }),
  }
}

/** `--listen HOST|off`. */
export const listenFlag = Flags.custom<string>({
  helpValue: '<host|off>',
  parse: async (input) => {
    if (input !== '' && !isListenValue(input)) throw new P2PError(ErrorCode.Usage, `--listen: "${input}" is not a host or off`)
    return input
  },
})

/** `--advertise HOST[:PORT]`. */
export const advertiseFlag = Flags.custom<string>({
  helpValue: '<host[:port]>',
  parse: async (input) => {
    if (input !== '' && !parseAdvertise(input)) throw new P2PError(ErrorCode.Usage, `--advertise: "${input}" is not HOST[:PORT]`)
    return input
  },
})
