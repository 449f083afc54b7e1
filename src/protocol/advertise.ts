/**
 * `--listen HOST|off` and `--advertise HOST[:PORT]` (SPEC section 4): parsed and checked once,
 * here, for the CLI (a typo is a usage error before anything starts) and the daemon alike. Plain
 * code, no zod: one-shot commands import this.
 */

/** `--listen off`: no listener at all; reachable through the relay only. */
export const LISTEN_OFF = 'off'

const HOST = /^[A-Za-z0-9.:_-]{1,253}$/

export interface Advertised {
  host: string
  port?: number
}

/** Pure: `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 literal; undefined when it is none of these. */
export function parseAdvertise(text: string): Advertised | undefined {
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(text)
  const plain = /^([^:[\]]+)(?::(\d{1,5}))?$/.exec(text)
  const [host, port] = bracketed
    ? [bracketed[1], bracketed[2]]
    : plain
      ? [plain[1], plain[2]]
      : (text.match(/:/g)?.length ?? 0) >= 2
        ? [text]
        : []
  if (!host || !HOST.test(host)) return undefined
  if (port === undefined) return { host }
  const n = Number(port)
  return n >= 1 && n <= 65535 ? { host, port: n } : undefined
}

/** Pure: an address to listen on (a host name or IP literal), or `off`. */
export function isListenValue(text: string): boolean {
  return text === LISTEN_OFF || HOST.test(text)
}

/** Pure: what a daemon registers: the advertised address when given (its port defaults to the listener's), else only the port; 0 when it does not listen. */
export function registeredAddress(listenPort: number, advertise: string | undefined): { host?: string; port: number } {
  const advertised = advertise ? parseAdvertise(advertise) : undefined
  if (!advertised) return { port: listenPort }
  return { host: advertised.host, port: advertised.port ?? listenPort }
}
