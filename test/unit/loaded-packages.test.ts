import { describe, expect, it } from 'vitest'
import { packagesIn } from '../../src/daemon/loaded-packages.js'

describe('packagesIn', () => {
  it('names each package of a module path once, scoped ones whole, nested ones by the innermost', () => {
    expect(
      packagesIn([
        '/app/node_modules/zod/v4/classic/index.cjs',
        '/app/node_modules/zod/index.cjs',
        '/app/node_modules/@hyperswarm/secret-stream/index.js',
        '/app/node_modules/pino/node_modules/sonic-boom/index.js',
        '/app/dist/daemon/run.bundle.cjs',
      ]),
    ).toEqual(['@hyperswarm/secret-stream', 'sonic-boom', 'zod'])
  })
})
