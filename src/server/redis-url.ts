/** The `--redis URL` of `p2p server`, checked without loading ioredis (the command checks it before starting). */
import type { RedisOptions } from 'ioredis'

/** Pure: ioredis options for `redis://[:PASSWORD@]HOST[:PORT][/DB]` or `unix:///PATH[?db=N]`; throws on anything else. */
export function parseRedisUrl(raw: string): RedisOptions {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new Error(`"${raw}" is not a Redis URL such as redis://127.0.0.1:6379/0 or unix:///run/redis/redis.sock`)
  }
  const db = (text: string | null | undefined): number => {
    if (text === null || text === undefined || text === '') return 0
    if (!/^\d{1,2}$/.test(text)) throw new Error(`"${raw}": the database must be a number from 0 to 99`)
    return Number(text)
  }
  const password = url.password ? { password: decodeURIComponent(url.password) } : {}
  const username = url.username ? { username: decodeURIComponent(url.username) } : {}
  if (url.protocol === 'unix:') {
    if (!url.pathname || url.pathname === '/') throw new Error(`"${raw}": a unix:// Redis URL needs a socket path`)
    return { path: decodeURIComponent(url.pathname), db: db(url.searchParams.get('db')), ...username, ...password }
  }
  if (url.protocol === 'redis:' || url.protocol === 'rediss:') {
    if (!url.hostname) throw new Error(`"${raw}": a Redis URL needs a host`)
    return {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : 6379,
      db: db(url.pathname.slice(1)),
      ...username,
      ...password,
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    }
  }
  throw new Error(`"${raw}": the scheme must be redis://, rediss:// or unix://`)
}
