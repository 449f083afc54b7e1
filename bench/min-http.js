/** B4's baseline: a minimal node:http server answering every request with a fixed JSON body. */
import { createServer } from 'node:http'

const body = JSON.stringify({ expiresAt: '2030-01-01T00:00:00.000Z' })
const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`))
process.on('SIGTERM', () => process.exit(0))
