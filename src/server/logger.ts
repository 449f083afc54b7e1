/** Structured logs: pino JSON lines on stderr, so stdout stays free for the one human line. */
import { type Logger, pino } from 'pino'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export function createServerLogger(level: LogLevel = 'info'): Logger {
  // Synchronous writes: nothing is lost when the process exits, and at `info` there are few lines.
  return pino({ name: 'p2p-server', level }, pino.destination({ dest: 2, sync: true }))
}
