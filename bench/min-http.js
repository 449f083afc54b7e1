/**
 * B4's baseline: a minimal node:http server answering every request with a fixed JSON body. A
 * list request (`/v1/peers?…`) gets a fixed list of 100 peers of the server's own shape, so that
 * the baseline writes as many bytes as the server it is compared with.
 */
import { createServer } from 'node:http'

const body = JSON.stringify({ expiresAt: '2030-01-01T00:00:00.000Z' })
const list = JSON.stringify({
  peers: Array.from({ length: 100 }, (_, i) => ({
    userId: `u${String(i).padStart(3, '0')}`,
    publicKey: 'a'.repeat(64),
    host: '127.0.0.1',
    port: 1024 + i,
    lastSeen: '2030-01-01T00:00:00.000Z',
  })),
})
const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    const json = req.url?.startsWith('/v1/peers?') ? list : body
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) })
    res.end(json)
  })
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`))
process.on('SIGTERM', () => process.exit(0))
