/**
 * Preloaded into both daemons by idle-timeline.js (`--require`): stamps socket reads and writes,
 * decrypted data and peer frames, SQLite statement runs and fdatasync calls with the monotonic
 * clock, which all processes share, and writes them to $P2P_TIMELINE_DIR/PID.json on exit.
 * A measuring aid only: it wraps hot functions, so absolute times run a little slow.
 */
const fs = require('node:fs')
const net = require('node:net')
const EventEmitter = require('node:events')
const path = require('node:path')

const events = []
const now = () => Number(process.hrtime.bigint() / 1000n)
const kind = (socket) => (socket.remotePort ? 'tcp' : 'unix')

const socketEmit = net.Socket.prototype.emit
net.Socket.prototype.emit = function (name, ...args) {
  if (name === 'data') events.push([now(), `read-${kind(this)}`])
  return socketEmit.call(this, name, ...args)
}
const emit = EventEmitter.prototype.emit
EventEmitter.prototype.emit = function (name, ...args) {
  if ((name === 'data' || name === 'frame') && !(this instanceof net.Socket) && /Secret|PeerConnection/.test(this.constructor.name))
    events.push([now(), `${name === 'data' ? 'decrypted' : 'frame'}`])
  return emit.call(this, name, ...args)
}
const write = net.Socket.prototype.write
net.Socket.prototype.write = function (data, ...args) {
  const t = now()
  const result = write.call(this, data, ...args)
  events.push([t, `write-${kind(this)}`, now() - t])
  return result
}
const fdatasync = fs.fdatasync
fs.fdatasync = (fd, callback) => {
  events.push([now(), 'fsync-start'])
  return fdatasync.call(fs, fd, (error) => {
    events.push([now(), 'fsync-done'])
    callback(error)
  })
}
try {
  const Database = require(require.resolve('better-sqlite3', { paths: [process.cwd()] }))
  const db = new Database(':memory:')
  const Statement = Object.getPrototypeOf(db.prepare('SELECT 1'))
  db.close()
  const run = Statement.run
  Statement.run = function (...args) {
    const t = now()
    const result = run.apply(this, args)
    events.push([t, `sql ${this.source.split(/\s+/).slice(0, 2).join(' ')}`, now() - t])
    return result
  }
} catch (error) {
  events.push([now(), `hook could not wrap better-sqlite3: ${error.message}`])
}
process.on('exit', () => fs.writeFileSync(path.join(process.env.P2P_TIMELINE_DIR, `${process.pid}.json`), JSON.stringify(events)))
