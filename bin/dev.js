#!/usr/bin/env node
// Development entry: same as run.js, with oclif's development mode (fuller stack traces).
// Keep `npm run dev` (tsc --watch) running beside it; oclif's own TypeScript loading does not work here.
import { execute } from '@oclif/core'

await execute({ development: true, dir: import.meta.url })
