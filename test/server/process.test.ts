/** `p2p server` as a user runs it: the built bin, spawned, on port 0, in temp dirs. */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BIN, REPO_ROOT, type ServerProcess, serverArgs, startServerProcess } from '../helpers/server.js'
import { get, makeUser, post, registerBody } from './support.js'

const running: ServerProcess[] = []
async function start(options: Parameters<typeof startServerProcess>[0] = {}): Promise<ServerProcess> {
  const server = await startServerProcess(options)
  running.push(server)
  return server
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.kill()))
})

describe('p2p server', () => {
  it('prints its real port, answers /healthz, and exits 0 on SIGTERM', async () => {
    const server = await start()
    expect(server.port).toBeGreaterThan(0)
    expect(server.stdout()).toBe(`listening on http://127.0.0.1:${server.port}\n`)
    const res = await get(server.url, '/healthz')
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ ok: true })
    // Logs are JSON lines on stderr.
    const first = server.stderr().split('\n')[0]!
    expect(JSON.parse(first)).toMatchObject({ msg: 'listening' })
    expect(await server.stop()).toBe(0)
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow()
  })

  it('exits 0 on SIGINT', async () => {
    const server = await start()
    const exit = new Promise<number | null>((resolve) => server.child.once('exit', resolve))
    server.child.kill('SIGINT')
    expect(await exit).toBe(0)
  })

  it('keeps bindings across a restart with --db', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'p2p-db-')), 'registry.db')
    const owner = makeUser('alice')
    const first = await start({ db })
    expect((await post(first.url, '/v1/register', registerBody(owner))).status).toBe(200)
    expect(await first.stop()).toBe(0)

    const second = await start({ db })
    const impostor = await post(second.url, '/v1/register', registerBody(makeUser('alice')))
    expect(impostor.status).toBe(409)
    expect(impostor.json.error.code).toBe('user_id_taken')
    expect((await post(second.url, '/v1/register', registerBody(owner))).status).toBe(200)
    expect((await get(second.url, '/v1/peers/alice')).json.publicKey).toBe(owner.publicKey)
  })

  it('forgets everything across a restart with --memory', async () => {
    const first = await start({ memory: true })
    expect((await post(first.url, '/v1/register', registerBody(makeUser('bob')))).status).toBe(200)
    expect(await first.stop()).toBe(0)

    const second = await start({ memory: true })
    expect((await get(second.url, '/v1/peers/bob')).status).toBe(404)
    expect((await post(second.url, '/v1/register', registerBody(makeUser('bob')))).status).toBe(200)
  })

  it('keeps its default database under $XDG_DATA_HOME', async () => {
    const server = await start({ memory: false })
    expect((await post(server.url, '/v1/register', registerBody(makeUser('carol')))).status).toBe(200)
    expect(existsSync(join(server.dataHome, 'p2p-server', 'registry.db'))).toBe(true)
  })

  it('refuses --db together with --memory', () => {
    const dataHome = mkdtempSync(join(tmpdir(), 'p2p-server-test-'))
    const args = [...serverArgs({ memory: true }), '--db', join(dataHome, 'x.db')]
    const result = spawnSync(process.execPath, [BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, XDG_DATA_HOME: dataHome },
      encoding: 'utf8',
    })
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/cannot also be provided|--memory/)
  })

  it('fails with a message when the port is taken', async () => {
    const server = await start()
    const result = spawnSync(process.execPath, [BIN, 'server', '--host', '127.0.0.1', '--port', String(server.port), '--memory'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    })
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(/EADDRINUSE|in use/)
  })
})
