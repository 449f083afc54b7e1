/** A TCP proxy in front of a local port, for tests that watch or cut what a daemon sends to a server. */
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface TcpProxyOptions {
  /** Asked per connection: false resets it at once (a server that cannot be reached). Default: always. */
  admit?: () => boolean
  /** Sees a copy of every byte, both ways. */
  record?: (chunk: Buffer) => void
}

export async function tcpProxy(target: number, options: TcpProxyOptions = {}): Promise<{ url: string; close(): void }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((client: Socket) => {
    if (options.admit && !options.admit()) {
      client.resetAndDestroy()
      return
    }
    const upstream = connect(target, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
      s.on('close', () => sockets.delete(s))
      if (options.record) s.on('data', (c: Buffer) => options.record!(Buffer.from(c)))
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => {
      server.close()
      for (const s of sockets) s.destroy()
    },
  }
}
