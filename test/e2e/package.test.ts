import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import packageJson from '../../package.json' with { type: 'json' }
import { REPO_ROOT } from '../helpers/server.js'

describe('the npm package', () => {
  it('holds what the installed command runs: bin, the built code, the oclif manifest', () => {
    // --ignore-scripts: the test suite has built dist/ already; rebuilding it now would pull
    // files from under the tests running beside this one.
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8' })
    const files = new Set((JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]?.files.map((f) => f.path))
    for (const path of [
      'bin/run.js',
      'oclif.manifest.json',
      'dist/commands/msg.js',
      'dist/daemon/main.js',
      'dist/daemon/run.bundle.cjs',
      'dist/server/main.js',
      'package.json',
    ]) {
      expect(files.has(path), path).toBe(true)
    }
    expect([...files].some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false)
  })

  it('builds itself when packed, so a tarball made from a clean clone is complete', () => {
    expect(packageJson.scripts.prepack).toMatch(/npm run build/)
  })
})
