/**
 * The raw baseline's other process: a plain Node TCP server that answers every newline-delimited
 * JSON request with a JSON ack line, one write per message. Prints `listening PORT`.
 */
import { createServer } from 'node:net'
import { onLines } from './raw-lines.js'

const server = createServer((socket) => {
  socket.setNoDelay(true)
  onLines(socket, (line) => {
    const request = JSON.parse(line)
    socket.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: request.id, result: { id: String(request.id), to: 'bob', status: 'delivered' } })}\n`,
    )
  })
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`))
process.on('SIGTERM', () => process.exit(0))
