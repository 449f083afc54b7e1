// What both bundles share (bundle-fast-path.js, bundle-daemon.js): one CommonJS file for Node 20
// from one entry, not minified (it measured no faster and no smaller, and stack traces and CPU
// profiles keep their names), failing the build if a package other than `allowed` got in.
import { statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Packages found in the bundle's inputs, by name. */
function packagesIn(metafile) {
  const names = Object.keys(metafile.inputs).map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1])
  return new Set(names.filter(Boolean))
}

export async function bundleCjs({ name, entry, outfile, allowed = [], options = {} }) {
  const result = await build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    ...options,
  })
  const unexpected = [...packagesIn(result.metafile)].filter((pkg) => !allowed.includes(pkg))
  if (unexpected.length > 0) throw new Error(`the ${name} bundle pulled in packages: ${unexpected.join(', ')}`)
  console.log(`${relative(root, outfile)}: ${Object.keys(result.metafile.inputs).length} modules, ${statSync(outfile).size} bytes`)
  return result.metafile
}
