/**
 * B4: the discovery server under concurrent load (autocannon, in this process): validly signed
 * keep-alives/s (every body signed once: the server refuses replays) and lookups/s, beside a
 * minimal node:http server answering a fixed JSON under the same load; then RSS of the server
 * holding 100k registered peers (20k with --quick).
 */
import { join } from 'node:path'
import autocannon from 'autocannon'
import { cleanup, DIST, ROOT, rssMb, spawnUntil, standalone, startServer } from './lib.js'
import { CONNECTIONS, postAll } from './post-all.js'

const { signRegister, signLeaseRequest } = await import(join(DIST, 'protocol', 'discovery.js'))
const { generateIdentity } = await import(join(DIST, 'protocol', 'identity.js'))

function lookups(url, userIds, seconds) {
  let next = 0
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/peers/${userIds[next++ % userIds.length]}` }) }],
  })
}

function users(n, prefix) {
  const identity = generateIdentity()
  return Array.from({ length: n }, (_, i) => ({ userId: `${prefix}${i}`, identity }))
}

const registerBodies = (list) =>
  list.map(({ userId, identity }, i) =>
    JSON.stringify(signRegister(identity, { userId, port: 1024 + (i % 60000), host: '127.0.0.1', ts: Date.now() })),
  )

/** `perUser` distinct keep-alives for each user: distinct ts, so distinct signatures. */
function keepaliveBodies(list, perUser, offset = 0) {
  const now = Date.now() - offset
  const bodies = []
  for (let j = 0; j < perUser; j++)
    for (const { userId, identity } of list)
      bodies.push(JSON.stringify(signLeaseRequest(identity, 'keepalive', { userId, ts: now + offset + j })))
  return bodies
}

const summary = (r) => ({
  perSecond: r.requests.total / r.duration,
  total: r.requests.total,
  non2xx: r.non2xx,
  errors: r.errors,
  latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
})

/** Keep-alives in chunks signed just before use, so none is older than the server's 30 s window. */
async function keepaliveLoad(url, list, keepalives) {
  const chunk = 10_000
  const total = { perSecond: 0, total: 0, non2xx: 0, errors: 0, seconds: 0, latencyMs: { p50: 0, p99: 0, max: 0 } }
  for (let done = 0; done < keepalives; done += chunk) {
    const bodies = keepaliveBodies(list, Math.ceil(Math.min(chunk, keepalives - done) / list.length), done)
    const started = performance.now()
    const r = await postAll(url, '/v1/keepalive', bodies)
    total.total += r.requests.total
    total.non2xx += r.non2xx
    total.errors += r.errors
    // Wall time measured here: autocannon's own duration is too coarse for runs of a few seconds.
    total.seconds += (performance.now() - started) / 1000
    total.latencyMs = {
      p50: Math.max(total.latencyMs.p50, r.latency.p50),
      p99: Math.max(total.latencyMs.p99, r.latency.p99),
      max: Math.max(total.latencyMs.max, r.latency.max),
    }
  }
  total.perSecond = total.total / total.seconds
  return total
}

async function load(url, { list, keepalives, seconds }) {
  const ka = await keepaliveLoad(url, list, keepalives)
  const lk = summary(
    await lookups(
      url,
      list.map((u) => u.userId),
      seconds,
    ),
  )
  return { keepalive: ka, lookup: lk }
}

export async function run({ quick }) {
  const nUsers = quick ? 1000 : 2000
  const keepalives = quick ? 15_000 : 40_000
  const seconds = quick ? 4 : 10
  const registered = quick ? 20_000 : 100_000
  const list = users(nUsers, 'u')

  const base = await spawnUntil([join(ROOT, 'bench', 'min-http.js')], { pattern: /listening (http:\/\/\S+)/ })
  const baseUrl = base.match[1]
  const baseline = await load(baseUrl, { list, keepalives, seconds })
  await base.stop()

  const rows = []
  const raw = { baseline }
  for (const backend of quick ? ['memory'] : ['memory', 'sqlite']) {
    const server = await startServer({ memory: backend === 'memory' })
    const reg = summary(await postAll(server.url, '/v1/register', registerBodies(list)))
    if (reg.non2xx) throw new Error(`registration failed: ${JSON.stringify(reg)}`)
    const result = await load(server.url, { list, keepalives, seconds })
    // RSS with many peers registered.
    const rssBefore = rssMb(server.pid)
    const many = users(registered, 'm')
    const bulk = summary(await postAll(server.url, '/v1/register', registerBodies(many)))
    const rssAfter = rssMb(server.pid)
    raw[backend] = { register: reg, ...result, bulkRegister: bulk, rssBefore, rssAfter }
    const b = `${backend} registry`
    rows.push(
      {
        metric: `keep-alives/s (${b})`,
        value: result.keepalive.perSecond,
        baseline: baseline.keepalive.perSecond,
        ratio: result.keepalive.perSecond / baseline.keepalive.perSecond,
        goal: 'report',
        p99ms: result.keepalive.latencyMs.p99,
        non2xx: result.keepalive.non2xx,
      },
      {
        metric: `lookups/s (${b})`,
        value: result.lookup.perSecond,
        baseline: baseline.lookup.perSecond,
        ratio: result.lookup.perSecond / baseline.lookup.perSecond,
        goal: 'report',
        p99ms: result.lookup.latencyMs.p99,
        non2xx: result.lookup.non2xx,
      },
      { metric: `registrations/s (${b}, ${registered} users)`, value: bulk.perSecond, goal: 'report', non2xx: bulk.non2xx },
      { metric: `server RSS MB with ${registered + nUsers} registered peers (${b})`, value: rssAfter, goal: 'report', before: rssBefore },
    )
    await server.stop()
  }
  await cleanup()
  return {
    id: 'B4',
    title: 'discovery server under load',
    command: `node bench/b4-discovery.js${quick ? ' --quick' : ''}`,
    setup: `autocannon in-process, ${CONNECTIONS} connections; ${keepalives} distinct signed keep-alives over ${nUsers} leases; lookups for ${seconds} s; --rate-limit 0`,
    rows,
    raw,
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await standalone(run)
