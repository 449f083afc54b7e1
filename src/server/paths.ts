/** Where `p2p server` keeps its registry by default. Light on imports: the command loads it before anything else. */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME ? resolve(env.XDG_DATA_HOME) : join(homedir(), '.local', 'share')
  return join(base, 'p2p-server', 'registry.db')
}
