/**
 * Whose request is this? Behind a load balancer every socket comes from the balancer, so the rate
 * limit and the recorded host would see one client. `--trust-proxy ADDR[,ADDR]` names the
 * balancers whose `X-Forwarded-For` is believed; from anyone else the header is ignored, since
 * any client can write it.
 */
import { normalizeAddress } from './http.js'

/** Pure: `--trust-proxy 10.0.0.1,::1` as a set of normalized addresses; throws on an empty item. */
export function parseTrustedProxies(raw: string): ReadonlySet<string> {
  const items = raw.split(',').map((s) => s.trim())
  if (items.some((s) => s === '' || /\s/.test(s))) throw new Error(`--trust-proxy: "${raw}" is not a comma-separated list of addresses`)
  return new Set(items.map((s) => normalizeAddress(s) ?? s))
}

/**
 * Pure: the client's address. When the socket peer is a trusted proxy, the right-most address of
 * X-Forwarded-For that is not itself a trusted proxy (each proxy appends the address it saw, so
 * entries left of that one are the client's own claims); otherwise the socket peer.
 */
export function clientAddress(socketAddress: string, forwardedFor: string | string[] | undefined, trusted: ReadonlySet<string>): string {
  if (trusted.size === 0 || !trusted.has(socketAddress) || forwardedFor === undefined) return socketAddress
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((s) => normalizeAddress(s.trim()))
    .filter((s): s is string => !!s)
  for (let i = hops.length - 1; i >= 0; i--) if (!trusted.has(hops[i]!)) return hops[i]!
  return hops[0] ?? socketAddress
}
