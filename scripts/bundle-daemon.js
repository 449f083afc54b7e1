// Bundles `p2p daemon run` (src/cli/daemon-run-path.ts and the daemon it starts) into one
// CommonJS file that bin/run.js require()s. The daemon runs all day, and ES modules cost it memory
// that CommonJS does not: each module keeps a module record, and the packages' ESM builds are
// larger than their CommonJS ones. Loading the same packages through require() instead of import
// held about 9 MB less, and the bundled daemon idles about 6 MB lower (BENCHMARKS.md, B9). The
// packages stay outside the bundle, loaded by require() (their CommonJS builds: zod alone held
// 3 MB more when bundled); nanoid has no CommonJS build and goes in.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { bundleCjs, root } from './bundle-cjs.js'

// Two levels below the root, like dist/daemon/*.js: import.meta.url (below) then names the same
// files relative to it (../../package.json for the version, node_modules for the checkpointer).
const outfile = join(root, 'dist', 'daemon', 'run.bundle.cjs')
// nanoid has no CommonJS build (require() of it fails on Node 20), so it goes in the bundle.
const BUNDLED_PACKAGES = ['nanoid']
/**
 * src/protocol/load-schemas.ts imports the zod schema modules; in the daemon, load-schemas.lazy.ts
 * takes its place and require()s each on first use (esbuild runs a bundled module reached through
 * require() only when that call runs), so an idle daemon never loads zod.
 */
const lazySchemas = {
  name: 'lazy-schemas',
  setup(build) {
    build.onResolve({ filter: /(^|\/)load-schemas\.js$/ }, (args) => ({
      path: resolve(args.resolveDir, args.path.replace(/load-schemas\.js$/, 'load-schemas.lazy.ts')),
    }))
  },
}
const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const metafile = await bundleCjs({
  name: 'daemon',
  entry: 'src/cli/daemon-run-path.ts',
  outfile,
  allowed: BUNDLED_PACKAGES,
  options: {
    external: Object.keys(dependencies).filter((name) => !BUNDLED_PACKAGES.includes(name)),
    // CommonJS has no import.meta: the bundle's own URL stands in for each module's.
    define: { 'import.meta.url': '__bundleUrl' },
    plugins: [lazySchemas],
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  },
})
// Had the swap not happened (a renamed file), the daemon would load zod at start again.
if (!metafile.inputs['src/protocol/load-schemas.lazy.ts'] || metafile.inputs['src/protocol/load-schemas.ts'])
  throw new Error('the daemon bundle must take load-schemas.lazy.ts in place of load-schemas.ts')
