/** What B4 and B8 share: each of many POST bodies sent once, over concurrent connections (autocannon, in this process). */
import autocannon from 'autocannon'

export const CONNECTIONS = 32
export const JSON_HEADERS = { 'content-type': 'application/json' }

/** Sends each body once over `connections` connections; returns autocannon's result. */
export function postAll(url, path, bodies, connections = CONNECTIONS) {
  let next = 0
  return autocannon({
    url,
    connections,
    amount: bodies.length,
    requests: [{ method: 'POST', path, headers: JSON_HEADERS, setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
  })
}
