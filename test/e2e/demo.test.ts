import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../helpers/server.js'

const DEMO_DEADLINE_MS = 180_000

describe('npm run demo', () => {
  it(
    'runs to completion: discovery, both ways, queued then delivered, block, mute; and cleans up',
    async () => {
      const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'demo.js')], {
        cwd: REPO_ROOT,
        env: { ...process.env, NO_COLOR: '1' },
      })
      let out = ''
      child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s))
      child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s))
      // A generous deadline (a busy machine runs a whole session here); past it the demo is stopped
      // (SIGTERM: it cleans up) and the failure shows how far it got.
      const deadline = setTimeout(() => child.kill('SIGTERM'), DEMO_DEADLINE_MS - 10_000)
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve)).finally(() => clearTimeout(deadline))
      expect(code, out).toBe(0)
      expect(out).toMatch(/bob\$ p2p msg alice 'hello alice!'\n {2}delivered/)
      expect(out).toMatch(/alice\$ p2p msg bob 'are you still there\?' --timeout 2\n {2}queued/)
      expect(out).toMatch(/alice -> bob: are you still there\?/)
      expect(out).toMatch(/alice\$ p2p msg bob 'see you tomorrow' --timeout 15\n {2}mailbox/)
      expect(out).toMatch(/bob\$ p2p history alice --limit 1\n {2}\[[^\]]+\] alice -> bob: see you tomorrow/)
      expect(out).toMatch(/this one is muted {2}\(muted\)/)
      const work = /home +(\/\S+)\/alice/.exec(out)?.[1]
      expect(work).toBeDefined()
      expect(existsSync(work as string)).toBe(false)
    },
    DEMO_DEADLINE_MS,
  )
})
