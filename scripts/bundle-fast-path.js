// Bundles the fast path (src/cli/fast-path.ts and what it imports) into one CommonJS file that
// bin/run.js require()s: one file to read and compile instead of a dozen ES modules, each resolved
// and linked on its own, and no ES module loader at all (BENCHMARKS.md, B3). The fast path exists
// to load no package at all (test/unit/fast-path.test.ts checks the sources too).
import { join } from 'node:path'
import { bundleCjs, root } from './bundle-cjs.js'

await bundleCjs({ name: 'fast path', entry: 'src/cli/fast-path.ts', outfile: join(root, 'dist', 'fast-path.bundle.cjs') })
