// Bundles the fast path (src/cli/fast-path.ts and what it imports) into one file that bin/run.js
// loads: one file to read and compile instead of a dozen ES modules, each resolved and linked
// on its own (BENCHMARKS.md, B3). Experiments: BUNDLE_FORMAT=esm|cjs, BUNDLE_MINIFY=0|1.
import { statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const format = process.env.BUNDLE_FORMAT ?? 'cjs'
const outfile = join(root, 'dist', format === 'cjs' ? 'fast-path.bundle.cjs' : 'fast-path.bundle.js')
const result = await build({
  entryPoints: [join(root, 'src', 'cli', 'fast-path.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format,
  minify: process.env.BUNDLE_MINIFY !== '0',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
})
const packages = Object.keys(result.metafile.inputs).filter((input) => input.includes('node_modules'))
// The fast path exists to load no package at all (test/unit/fast-path.test.ts checks the sources too).
if (packages.length > 0) throw new Error(`the fast path bundle pulled in packages: ${packages.join(', ')}`)
const modules = Object.keys(result.metafile.inputs).length
console.log(`${relative(root, outfile)}: ${modules} modules, ${statSync(outfile).size} bytes`)
