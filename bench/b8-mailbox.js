/**
 * B8: the mailbox at the discovery server. 10,000 sealed items (2,000 with --quick) deposited for
 * one recipient by concurrent clients (autocannon, 32 connections), then drained by the recipient
 * the way its daemon does (signed fetch of up to 200, signed delete of those, again). Each way
 * beside a bare node:http server answering bodies of the same sizes to the same requests. Then
 * the server's storage per item: SQLite file growth (database and WAL) and, for --memory, RSS
 * growth. Sealing and opening (with the signature check) are timed apart, in this process.
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { BIN, cleanup, DIST, ROOT, rssMb, spawnUntil, standalone, tempDir } from './lib.js'
import { CONNECTIONS, JSON_HEADERS, postAll } from './post-all.js'

const { signRegister } = await import(join(DIST, 'protocol', 'discovery.js'))
const { generateIdentity, toHex } = await import(join(DIST, 'protocol', 'identity.js'))
const { signFetch, signDelete } = await import(join(DIST, 'protocol', 'mailbox.js'))
const { seal, openSealed } = await import(join(DIST, 'protocol', 'sealed-message.js'))

const FETCH_LIMIT = 200

async function post(url, path, body) {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${path}: ${res.status} ${text.slice(0, 200)}`)
  return text ? JSON.parse(text) : undefined
}

async function startMailboxServer(backend, items, existingDb) {
  const data = tempDir('p2p-bench-mailbox-')
  const db = existingDb ?? join(data, 'registry.db')
  const args = [BIN, 'server', '--host', '127.0.0.1', '--port', '0', '--rate-limit', '0', '--mailbox-rate', '0']
  args.push('--mailbox-quota', String(items), ...(backend === 'memory' ? ['--memory'] : ['--db', db]))
  const started = await spawnUntil(args, { pattern: /listening on (http:\/\/\S+)/, env: { XDG_DATA_HOME: data } })
  return { url: started.match[1], pid: started.child.pid, stop: started.stop, db }
}

const fileBytes = (path) => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}
const dbBytes = (db) => fileBytes(db) + fileBytes(`${db}-wal`)

/** The recipient's drain: signed fetch, signed delete of what came, until nothing is left. Returns items and seconds. */
async function drain(url, bob) {
  let ts = Date.now()
  let items = 0
  const boxes = []
  const started = performance.now()
  for (;;) {
    const page = await post(url, '/v1/mailbox/fetch', signFetch(bob.identity, { userId: bob.userId, limit: FETCH_LIMIT, ts: ts++ }))
    if (page.items.length === 0) break
    for (const item of page.items) boxes.push(item.box)
    await post(url, '/v1/mailbox/delete', signDelete(bob.identity, { userId: bob.userId, ids: page.items.map((i) => i.id), ts: ts++ }))
    items += page.items.length
  }
  return { items, seconds: (performance.now() - started) / 1000, boxes }
}

/** The same round trips to a bare server answering a body the size of a full page. */
async function drainBaseline(pageBytes, rounds) {
  const base = await spawnUntil([join(ROOT, 'bench', 'min-http-blob.js')], {
    pattern: /listening (http:\/\/\S+)/,
    env: { BLOB_BYTES: String(pageBytes) },
  })
  const url = base.match[1]
  const started = performance.now()
  for (let i = 0; i < rounds; i++) {
    await post(url, '/fetch', { userId: 'bob', ts: i, sig: 'x'.repeat(128) })
    await post(url, '/delete', {
      userId: 'bob',
      ids: Array.from({ length: FETCH_LIMIT }, (_, j) => String(j)),
      ts: i,
      sig: 'x'.repeat(128),
    })
  }
  const seconds = (performance.now() - started) / 1000
  await base.stop()
  return seconds
}

export async function run({ quick }) {
  const n = quick ? 2000 : 10_000
  const bob = { userId: 'bob', identity: generateIdentity() }
  const alice = generateIdentity()
  const recipient = { userId: 'bob', publicKey: toHex(bob.identity.publicKey) }
  const text = 'a message of about a hundred bytes, as people write them in a chat: hello bob, are you there?'

  let started = performance.now()
  const sealed = Array.from({ length: n }, (_, i) =>
    seal({ kind: 'message', from: 'alice', id: `bench-message-${i}`, at: Date.now(), text: `${text} ${i}` }, alice, recipient),
  )
  const sealSeconds = (performance.now() - started) / 1000
  const bodies = sealed.map((box) => JSON.stringify({ to: 'bob', box: box.toString('base64') }))

  const base = await spawnUntil([join(ROOT, 'bench', 'min-http.js')], { pattern: /listening (http:\/\/\S+)/ })
  started = performance.now()
  const baseRun = await postAll(base.match[1], '/v1/mailbox/deposit', bodies)
  const baseDepositSeconds = (performance.now() - started) / 1000
  await base.stop()

  const rows = [
    { metric: `items sealed/s (seal + sign, one core, ${sealed[0].length} bytes each)`, value: n / sealSeconds, goal: 'report' },
  ]
  const raw = { baseline: { depositSeconds: baseDepositSeconds, non2xx: baseRun.non2xx } }
  for (const backend of quick ? ['sqlite'] : ['sqlite', 'memory']) {
    const server = await startMailboxServer(backend, n)
    const reg = await post(server.url, '/v1/register', signRegister(bob.identity, { userId: 'bob', port: 7000, ts: Date.now() }))
    if (!reg.userId) throw new Error('registration failed')
    const bytesBefore = dbBytes(server.db)
    const rssBefore = rssMb(server.pid)
    started = performance.now()
    const dep = await postAll(server.url, '/v1/mailbox/deposit', bodies)
    const depositSeconds = (performance.now() - started) / 1000
    if (dep.non2xx) throw new Error(`${dep.non2xx} deposits refused`)
    const storedBytes = backend === 'sqlite' ? dbBytes(server.db) - bytesBefore : undefined
    const rssGrowth = rssMb(server.pid) - rssBefore
    let storedAtPeak
    if (backend === 'sqlite') {
      // Closing checkpoints the WAL into the file: its size then is what the items take at rest.
      await server.stop()
      storedAtPeak = dbBytes(server.db)
      Object.assign(server, await startMailboxServer(backend, n, server.db))
    }

    const drained = await drain(server.url, bob)
    if (drained.items !== n) throw new Error(`drained ${drained.items} of ${n}`)
    const baseDrainSeconds = await drainBaseline(
      Math.round((FETCH_LIMIT * (sealed[0].length * 4)) / 3 + FETCH_LIMIT * 60),
      Math.ceil(n / FETCH_LIMIT),
    )
    started = performance.now()
    for (const box of drained.boxes) if (!openSealed(Buffer.from(box, 'base64'), bob).ok) throw new Error('an item did not open')
    const openSeconds = (performance.now() - started) / 1000
    await server.stop()
    const afterStop = backend === 'sqlite' ? dbBytes(server.db) : undefined

    raw[backend] = {
      depositSeconds,
      drainSeconds: drained.seconds,
      storedBytes,
      storedAtPeak,
      afterStop,
      rssGrowth,
      baseDrainSeconds,
      openSeconds,
    }
    rows.push(
      {
        metric: `deposits/s (${backend}, ${CONNECTIONS} connections)`,
        value: n / depositSeconds,
        baseline: n / baseDepositSeconds,
        ratio: baseDepositSeconds / depositSeconds,
        goal: 'report',
        p99ms: dep.latency.p99,
      },
      {
        metric: `drained items/s (${backend}, fetch ${FETCH_LIMIT} + delete, one client)`,
        value: n / drained.seconds,
        baseline: n / baseDrainSeconds,
        ratio: baseDrainSeconds / drained.seconds,
        goal: 'report',
      },
      { metric: `items opened and verified/s (recipient, one core)`, value: n / openSeconds, goal: 'report' },
    )
    if (backend === 'sqlite') {
      rows.push(
        {
          metric: 'server storage per item at rest, bytes (SQLite file after its closing checkpoint)',
          value: storedAtPeak / n,
          goal: 'report',
        },
        { metric: 'server disk growth per item while serving, bytes (SQLite file + WAL)', value: storedBytes / n, goal: 'report' },
      )
    } else rows.push({ metric: 'server RSS growth per item, bytes (--memory)', value: (rssGrowth * 1024 * 1024) / n, goal: 'report' })
  }
  await cleanup()
  return {
    id: 'B8',
    title: 'mailbox deposit and drain',
    command: `node bench/b8-mailbox.js${quick ? ' --quick' : ''}`,
    setup: `${n} sealed items of ${sealed[0].length} bytes for one recipient; deposits by autocannon (${CONNECTIONS} connections), baseline a bare node:http server (bench/min-http.js, min-http-blob.js) given the same requests; --rate-limit 0 --mailbox-rate 0 --mailbox-quota ${n}`,
    rows,
    raw,
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await standalone(run)
