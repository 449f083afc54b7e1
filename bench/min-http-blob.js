/** B8's baseline: a minimal node:http server answering every request with a fixed JSON body of BLOB_BYTES bytes. */
import { createServer } from 'node:http'

const size = Number(process.env.BLOB_BYTES ?? 64)
const body = JSON.stringify({ blob: 'x'.repeat(Math.max(0, size - 12)) })
const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`))
process.on('SIGTERM', () => process.exit(0))
