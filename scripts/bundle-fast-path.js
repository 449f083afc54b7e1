// Bundles the fast path (src/cli/fast-path.ts and what it imports) into one CommonJS file that
// bin/run.js require()s: one file to read and compile instead of a dozen ES modules, each resolved
// and linked on its own, and no ES module loader at all (BENCHMARKS.md, B3). Not minified: it
// measured no faster, and stack traces keep their names.
import { statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outfile = join(root, 'dist', 'fast-path.bundle.cjs')
const result = await build({
  entryPoints: [join(root, 'src', 'cli', 'fast-path.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
})
// The fast path exists to load no package at all (test/unit/fast-path.test.ts checks the sources too).
const packages = Object.keys(result.metafile.inputs).filter((input) => input.includes('node_modules'))
if (packages.length > 0) throw new Error(`the fast path bundle pulled in packages: ${packages.join(', ')}`)
console.log(`${relative(root, outfile)}: ${Object.keys(result.metafile.inputs).length} modules, ${statSync(outfile).size} bytes`)
