/**
 * @hyperswarm/secret-stream, with the Noise packages under it, loaded on the first link rather than
 * at start: an idle daemon with no links holds about 1.5 MB less (BENCHMARKS.md, B9). It is a
 * CommonJS package, so require() loads the same module from the daemon's bundle and from ES modules.
 */
import { createRequire } from 'node:module'
import type SecretStream from '@hyperswarm/secret-stream'

let loaded: typeof SecretStream | undefined

export function loadSecretStream(): typeof SecretStream {
  loaded ??= createRequire(import.meta.url)('@hyperswarm/secret-stream') as typeof SecretStream
  return loaded
}
