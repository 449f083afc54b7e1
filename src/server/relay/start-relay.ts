/** The relay as the server starts it: limits completed with the defaults, and the answer when it is off. */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { ErrorCode } from '../../protocol/errors.js'
import type { Registry } from '../registry.js'
import { RelayHub, refuse } from './relay-hub.js'
import { DEFAULT_RELAY_LIMITS, type RelayLimits } from './relay-limits.js'
import type { RelayNeighbours } from './relay-neighbours.js'

export function startRelay(options: {
  registry: Registry
  logger: Logger
  now: () => number
  limits: Partial<RelayLimits>
  tap: ((chunk: Buffer) => void) | undefined
  neighbours?: RelayNeighbours | undefined
}): RelayHub {
  return new RelayHub({
    registry: options.registry,
    log: options.logger,
    now: options.now,
    limits: { ...DEFAULT_RELAY_LIMITS, ...options.limits },
    ...(options.tap ? { tap: options.tap } : {}),
    ...(options.neighbours ? { neighbours: options.neighbours } : {}),
  })
}

/** `p2p server --no-relay`: every upgrade gets a clear 404. */
export function refuseRelay(_req: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => socket.destroy())
  refuse(socket as never, { status: 404, code: ErrorCode.RelayDisabled, message: 'this server runs without a relay (--no-relay)' })
}
