/**
 * What most test files start with: a discovery server and registered daemons, started before the
 * tests of the calling `describe` and stopped after them.
 */
import { afterAll, beforeAll } from 'vitest'
import { type DaemonProcess, startRegisteredDaemons } from './daemon.js'
import { type ServerProcess, startServerProcess } from './server.js'

/** The server and each daemon by user id. */
export type Network<N extends string> = { server: ServerProcess } & { [K in N]: DaemonProcess }

export interface NetworkOptions {
  /** The server's lease ttl in seconds; default 5. */
  ttl?: number
  /** Extra environment of every daemon. */
  env?: NodeJS.ProcessEnv
}

/**
 * Registers `beforeAll`/`afterAll` hooks and returns the network they fill in: read its fields in
 * tests and later hooks, not at describe time. A test may put a restarted server or daemon in
 * its field; `afterAll` stops whatever is there then. `useNetwork([])` is a server alone.
 */
export function useNetwork<const N extends string>(userIds: readonly Exclude<N, 'server'>[], options: NetworkOptions = {}): Network<N> {
  const network = {} as Network<N>
  const daemons = network as unknown as Record<string, DaemonProcess | undefined>
  beforeAll(async () => {
    network.server = await startServerProcess({ ttl: options.ttl ?? 5 })
    const started = await startRegisteredDaemons(network.server.url, [...userIds], options.env)
    userIds.forEach((userId, i) => {
      daemons[userId] = started[i]
    })
  })
  afterAll(async () => {
    await Promise.all(userIds.map((userId) => daemons[userId]?.stop()))
    await network.server?.stop()
  })
  return network
}
