// Bundles `p2p daemon run` (src/cli/daemon-run-path.ts and the daemon it starts) into one
// CommonJS file that bin/run.js require()s. The daemon runs all day, and ES modules cost it memory
// that CommonJS does not: each module keeps a module record, and the packages' ESM builds are
// larger than their CommonJS ones. Loading the same packages through require() instead of import
// held about 9 MB less, and the bundled daemon idles about 6 MB lower (BENCHMARKS.md, B9). The
// packages stay outside the bundle, loaded by require() (their CommonJS builds: zod alone held
// 3 MB more when bundled); nanoid has no CommonJS build and goes in.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { bundleCjs, root } from './bundle-cjs.js'

// Two levels below the root, like dist/daemon/*.js: import.meta.url (below) then names the same
// files relative to it (../../package.json for the version, node_modules for the checkpointer).
const outfile = join(root, 'dist', 'daemon', 'run.bundle.cjs')
// nanoid has no CommonJS build (require() of it fails on Node 20), so it goes in the bundle.
const BUNDLED_PACKAGES = ['nanoid']
const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
await bundleCjs({
  name: 'daemon',
  entry: 'src/cli/daemon-run-path.ts',
  outfile,
  allowed: BUNDLED_PACKAGES,
  options: {
    external: Object.keys(dependencies).filter((name) => !BUNDLED_PACKAGES.includes(name)),
    // CommonJS has no import.meta: the bundle's own URL stands in for each module's.
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  },
})
