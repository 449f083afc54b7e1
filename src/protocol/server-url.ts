/**
 * The discovery server URL as `--server` takes it, checked the same way by the CLI (a usage error
 * before anything runs) and by the daemon (`daemon run`, and a profile that stored a bad one before
 * this check existed). Plain code on purpose: one-shot commands import it.
 */
import { ErrorCode, P2PError } from './errors.js'

/** The URL, unchanged, when it is an http(s) URL with a host; a usage error naming the rule otherwise. */
export function checkServerUrl(raw: string): string {
  let url: URL | undefined
  try {
    url = new URL(raw)
  } catch {
    url = undefined
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    throw new P2PError(ErrorCode.Usage, `"${raw}" is not a discovery server URL such as http://127.0.0.1:5000 (http or https, with a host)`)
  }
  return raw
}

/** Pure: whether two server URLs name the same server (http://h:5000 and http://h:5000/ do). */
export function sameServerUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href
  } catch {
    return a === b
  }
}
