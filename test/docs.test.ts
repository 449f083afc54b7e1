/**
 * The documentation keeps up with the code: every control method is in docs/rpc.md, every HTTP
 * route in docs/http.md, and the README links the docs. A method or route added without a word
 * in the docs fails here.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { MethodParams } from '../src/protocol/rpc.js'
import { mailboxRoutes } from '../src/server/mailbox/routes.js'
import { routes } from '../src/server/routes.js'
import { REPO_ROOT } from './helpers/server.js'

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8')

describe('docs', () => {
  it('docs/rpc.md has a section for every JSON-RPC method, and the event types', () => {
    const rpc = read('docs/rpc.md')
    const names = Object.keys(MethodParams)
    expect(names.length).toBeGreaterThan(10)
    for (const method of names) expect(rpc, method).toMatch(new RegExp(`^### .*\`${method}\``, 'm'))
    for (const type of ['message', 'muteEnded']) expect(rpc).toContain(`"type":"${type}"`)
  })

  it('docs/http.md has a section for every route of the discovery server', () => {
    const http = read('docs/http.md')
    expect(routes.length).toBeGreaterThan(4)
    for (const route of [...routes, ...mailboxRoutes])
      expect(http, `${route.method} ${route.path}`).toContain(`## \`${route.method} ${route.path}\``)
  })

  it('the README links every document, and the systemd unit runs and stops the daemon', () => {
    const readme = read('README.md')
    for (const doc of ['docs/rpc.md', 'docs/http.md', 'docs/p2p-daemon.service', 'docs/coming-from-p2p-py.md']) {
      expect(existsSync(join(REPO_ROOT, doc)), doc).toBe(true)
      expect(readme, doc).toContain(`(${doc})`)
    }
    const unit = read('docs/p2p-daemon.service')
    expect(unit).toMatch(/^ExecStart=.*p2p daemon run$/m)
    expect(unit).toMatch(/^ExecStop=.*p2p daemon stop$/m)
  })
})
