#!/usr/bin/env node
// Development entry: same as run.js, with oclif's development mode (fuller stack traces), and never
// the fast-path bundle (`npm run dev` does not rebuild it).
// Keep `npm run dev` (tsc --watch) running beside it; oclif's own TypeScript loading does not work here.
// CommonJS, as everything in bin/ (bin/package.json); the root is named outright, as in run.js.
const { join } = require('node:path')
const { execute } = require('@oclif/core')

execute({ development: true, dir: join(__dirname, '..') })
