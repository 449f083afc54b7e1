/**
 * A tiny router: a path pattern (`/v1/peers/:userId`) per route, matched segment by segment.
 * It knows which methods a path accepts, so a wrong method gets 405 rather than 404.
 */

export interface Route<H> {
  method: string
  path: string
  handler: H
  /** A request body cap above the default, for the one route whose bodies are bigger (mailbox deposits). */
  maxBodyBytes?: number
}

export type Match<H> =
  | { kind: 'found'; handler: H; params: Record<string, string>; maxBodyBytes?: number }
  | { kind: 'wrong_method'; allow: string[] }
  | { kind: 'not_found' }

/** Pure: the params of `path` under `pattern`, or undefined when it does not match. Params stay URL-encoded. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/')
  const got = path.split('/')
  if (want.length !== got.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!
    const g = got[i]!
    if (w.startsWith(':')) {
      if (g === '') return undefined
      params[w.slice(1)] = g
    } else if (w !== g) {
      return undefined
    }
  }
  return params
}

export function createRouter<H>(routes: Route<H>[]): (method: string, path: string) => Match<H> {
  return (method, path) => {
    const allow: string[] = []
    for (const route of routes) {
      const params = matchPath(route.path, path)
      if (!params) continue
      if (route.method === method) {
        return { kind: 'found', handler: route.handler, params, ...(route.maxBodyBytes ? { maxBodyBytes: route.maxBodyBytes } : {}) }
      }
      allow.push(route.method)
    }
    return allow.length > 0 ? { kind: 'wrong_method', allow } : { kind: 'not_found' }
  }
}
