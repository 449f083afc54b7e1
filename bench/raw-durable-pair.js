/**
 * B2's floor: the hops and the disk work of one `send`, in bare Node, with none of p2p's code.
 * A stand-in sender ("a") takes JSON-RPC lines on a Unix socket, appends each turn's messages to
 * a file and fdatasyncs it in libuv's thread pool, and passes them to a stand-in receiver ("b")
 * over loopback TCP; b appends them to its own file, fdatasyncs, and acks. a answers a request
 * once its own sync and b's ack both cover it: the same guarantee and the same process hops as
 * `send` (client -> alice -> bob -> fsync -> alice -> client). Each side keeps one fdatasync in
 * flight and the next one covers everything written meanwhile, as the daemons' group commit does.
 * No encryption, no SQLite, no validation: what is left is this machine's price for the path.
 *
 * `node bench/raw-durable-pair.js` runs a and prints `listening SOCKET`; a starts b itself.
 */
import { spawn } from 'node:child_process'
import { fdatasync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onLines } from './raw-lines.js'

const LOG_BYTES = 8 * 1024 * 1024

/**
 * Writes round a preallocated file, as SQLite reuses its WAL from the start after a checkpoint
 * (an overwrite's fdatasync flushes data only; an append's also commits the file's new size);
 * `sync(done)` calls `done` once everything written before it is on disk.
 */
function groupSyncedLog(file) {
  const fd = openSync(file, 'w+')
  writeSync(fd, Buffer.alloc(LOG_BYTES))
  fsyncSync(fd)
  let position = 0
  let running = false
  let waiting = []
  const start = () => {
    running = true
    const covered = waiting
    waiting = []
    fdatasync(fd, (error) => {
      if (error) throw error
      running = false
      for (const done of covered) done()
      if (waiting.length > 0) start()
    })
  }
  return {
    append: (text) => {
      const bytes = Buffer.from(text)
      if (position + bytes.length > LOG_BYTES) position = 0
      writeSync(fd, bytes, 0, bytes.length, position)
      position += bytes.length
    },
    sync: (done) => {
      waiting.push(done)
      if (!running) start()
    },
  }
}

function receiver(dir) {
  const log = groupSyncedLog(join(dir, 'b.log'))
  const server = createServer((socket) => {
    socket.setNoDelay(true)
    let turn = []
    onLines(
      socket,
      (line) => turn.push(JSON.parse(line).id),
      () => {
        if (turn.length === 0) return
        const ids = turn
        turn = []
        log.append(`${ids.join('\n')}\n`)
        log.sync(() => socket.write(ids.map((id) => `${JSON.stringify({ t: 'ack', id })}\n`).join('')))
      },
    )
  })
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`))
}

function sender(dir) {
  const log = groupSyncedLog(join(dir, 'a.log'))
  const child = spawn(process.execPath, [process.argv[1], 'b', dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  process.on('exit', () => child.kill())
  let peer
  let out = ''
  child.stdout.on('data', (chunk) => {
    out += chunk
    const m = out.match(/listening (\d+)/)
    if (!m || peer) return
    peer = createConnection(Number(m[1]), '127.0.0.1')
    peer.setNoDelay(true)
    onLines(peer, (line) => settle(JSON.parse(line).id))
    peer.once('connect', listen)
  })
  let nextId = 0
  /** id -> { answer, synced, acked } */
  const pending = new Map()
  const settle = (id, synced) => {
    const p = pending.get(id)
    if (!p) return
    if (synced) p.synced = true
    else p.acked = true
    if (p.synced && p.acked) {
      pending.delete(id)
      p.answer()
    }
  }
  const listen = () => {
    const socketPath = join(dir, 'a.sock')
    const server = createServer((client) => {
      let turn = []
      let answers = ''
      let flushScheduled = false
      const flush = () => {
        flushScheduled = false
        client.write(answers)
        answers = ''
      }
      onLines(
        client,
        (line) => turn.push(JSON.parse(line)),
        () => {
          if (turn.length === 0) return
          const requests = turn
          turn = []
          let frames = ''
          const ids = []
          for (const request of requests) {
            const id = String(nextId++)
            ids.push(id)
            pending.set(id, {
              synced: false,
              acked: false,
              answer: () => {
                answers += `${JSON.stringify({ jsonrpc: '2.0', id: request.id, result: { id, to: 'bob', status: 'delivered' } })}\n`
                if (!flushScheduled) {
                  flushScheduled = true
                  setImmediate(flush)
                }
              },
            })
            frames += `${JSON.stringify({ t: 'msg', id, text: request.params?.text, at: Date.now() })}\n`
          }
          log.append(frames)
          peer.write(frames)
          log.sync(() => {
            for (const id of ids) settle(id, true)
          })
        },
      )
    })
    server.listen(socketPath, () => process.stdout.write(`listening ${socketPath}\n`))
  }
}

const [role, dir] = process.argv.slice(2)
if (role === 'b') receiver(dir)
else {
  const own = mkdtempSync(join(tmpdir(), 'p2p-bench-floor-'))
  process.on('exit', () => rmSync(own, { recursive: true, force: true }))
  process.on('SIGTERM', () => process.exit(0))
  sender(own)
}
