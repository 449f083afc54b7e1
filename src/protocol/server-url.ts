/**
 * The discovery server URL as `--server` takes it, checked the same way by the CLI (a usage error
 * before anything runs) and by the daemon (`daemon run`, and a profile that stored a bad one before
 * this check existed). Plain code on purpose: one-shot commands import it.
 */
import { ErrorCode, P2PError } from './errors.js'

/**
 * Pure: the URLs of a `--server` value. Several comma-separated URLs name instances of one
 * namespace (servers sharing a Redis): the daemon uses the first that answers, in order.
 */
export function serverUrls(raw: string): string[] {
  return raw.split(',').map((s) => s.trim())
}

/** The value, unchanged, when each of its comma-separated URLs is an http(s) URL with a host; a usage error naming the rule otherwise. */
export function checkServerUrl(raw: string): string {
  for (const one of serverUrls(raw)) checkOneServerUrl(one, raw)
  return raw
}

/**
 * `p2p server --relay-url`: one URL, checked as each of `--server`'s is (http or https, with a
 * host). A port of 0 stands for the port the server listens on.
 */
export function checkRelayUrl(raw: string): string {
  const refuse = () =>
    new P2PError(ErrorCode.Usage, `--relay-url: "${raw}" is not one http(s) URL with a host, such as http://10.0.0.11:5000`)
  if (raw.includes(',')) throw refuse()
  try {
    checkOneServerUrl(raw, raw)
  } catch {
    throw refuse()
  }
  return raw
}

function checkOneServerUrl(one: string, raw: string): void {
  let url: URL | undefined
  try {
    url = new URL(one)
  } catch {
    url = undefined
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    const which = one === raw ? `"${raw}"` : `"${one}" (in "${raw}")`
    throw new P2PError(
      ErrorCode.Usage,
      `${which} is not a discovery server URL such as http://127.0.0.1:5000 (http or https, with a host; several separated by commas)`,
    )
  }
}

/** Pure: whether two `--server` values name the same servers in the same order (http://h:5000 and http://h:5000/ do). */
export function sameServerUrl(a: string, b: string): boolean {
  const as = serverUrls(a)
  const bs = serverUrls(b)
  return as.length === bs.length && as.every((one, i) => sameOne(one, bs[i]!))
}

function sameOne(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href
  } catch {
    return a === b
  }
}
