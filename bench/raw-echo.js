/**
 * The raw baseline's other process: a plain Node TCP server that answers every newline-delimited
 * JSON request with a JSON ack line, one write per message. Prints `listening PORT`.
 */
import { createServer } from 'node:net'

const server = createServer((socket) => {
  socket.setNoDelay(true)
  socket.setEncoding('utf8')
  let buffer = ''
  socket.on('data', (chunk) => {
    const text = buffer + chunk
    let start = 0
    for (;;) {
      const nl = text.indexOf('\n', start)
      if (nl < 0) break
      const request = JSON.parse(text.slice(start, nl))
      start = nl + 1
      socket.write(
        `${JSON.stringify({ jsonrpc: '2.0', id: request.id, result: { id: String(request.id), to: 'bob', status: 'delivered' } })}\n`,
      )
    }
    buffer = text.slice(start)
  })
  socket.on('error', () => socket.destroy())
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`))
process.on('SIGTERM', () => process.exit(0))
