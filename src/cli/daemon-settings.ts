/**
 * What a daemon is started with, between the flags that ask for it and the `daemon run` command
 * line that hands it on. Apart from flags.ts so that daemon-launcher.ts (and `daemon stop` on the
 * fast path) does not load @oclif/core.
 */

/** What a daemon is started with; the daemon remembers user and server after its first start. */
export interface DaemonSettings {
  userId?: string
  port?: number
  serverUrl?: string
  /** A host, or off; '' forgets a remembered one. */
  listen?: string
  /** HOST[:PORT]; '' forgets a remembered one. */
  advertise?: string
}

/** Pure: the settings the daemon flags ask for. An empty --user or --server counts as not given. */
export function daemonSettings(flags: {
  user?: string
  port?: number
  server?: string
  listen?: string
  advertise?: string
}): DaemonSettings {
  return {
    ...(flags.user ? { userId: flags.user } : {}),
    ...(flags.port !== undefined ? { port: flags.port } : {}),
    ...(flags.server ? { serverUrl: flags.server } : {}),
    ...(flags.listen !== undefined ? { listen: flags.listen } : {}),
    ...(flags.advertise !== undefined ? { advertise: flags.advertise } : {}),
  }
}

/** Pure: the inverse, the `daemon run` flags that hand `settings` to a daemon started detached. */
export function daemonSettingsArgs(settings: DaemonSettings): string[] {
  return [
    ...(settings.userId !== undefined ? ['--user', settings.userId] : []),
    ...(settings.port !== undefined ? ['--port', String(settings.port)] : []),
    ...(settings.serverUrl !== undefined ? ['--server', settings.serverUrl] : []),
    ...(settings.listen !== undefined ? ['--listen', settings.listen] : []),
    ...(settings.advertise !== undefined ? ['--advertise', settings.advertise] : []),
  ]
}
