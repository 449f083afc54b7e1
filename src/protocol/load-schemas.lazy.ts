/**
 * load-schemas.ts as the daemon's bundle has it (scripts/bundle-daemon.js swaps the two): esbuild
 * turns each require() of a bundled ES module into a call that runs the module on first use, so
 * zod and the schemas load the first time a hand-written check is not sure, not at start.
 * The same exports, with the same types.
 */
import type * as discovery from './discovery.js'
import type * as mailbox from './mailbox.js'
import type * as peerFrames from './peer-frames.js'
import type * as relay from './relay.js'
import type * as rpc from './rpc.js'

declare const require: (id: string) => unknown

/** `load()` once; esbuild's require() of an ES module copies its exports into a new object each time. */
function once<T>(load: () => T): () => T {
  let loaded: T | undefined
  return () => {
    loaded ??= load()
    return loaded
  }
}

export const discoverySchemas = once(() => require('./discovery.js') as typeof discovery)
export const mailboxSchemas = once(() => require('./mailbox.js') as typeof mailbox)
export const peerFrameSchemas = once(() => require('./peer-frames.js') as typeof peerFrames)
export const relaySchemas = once(() => require('./relay.js') as typeof relay)
export const rpcSchemas = once(() => require('./rpc.js') as typeof rpc)
