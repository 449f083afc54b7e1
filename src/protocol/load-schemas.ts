/**
 * The zod schema modules, for code that runs in the daemon and checks most input by hand first
 * (send-request.ts, peer-frame-codec.ts, ...): it asks for a schema module only when a hand-written
 * check is not sure. Here (ES modules: the server, the CLI, the tests) the modules are imported as
 * usual. The daemon's bundle (scripts/bundle-daemon.js) puts load-schemas.lazy.ts in this file's
 * place, which require()s each module on first use: an idle daemon then never loads zod, about
 * 4 MB of heap (BENCHMARKS.md, B9).
 */
import * as discovery from './discovery.js'
import * as mailbox from './mailbox.js'
import * as peerFrames from './peer-frames.js'
import * as relay from './relay.js'
import * as rpc from './rpc.js'

export const discoverySchemas = (): typeof discovery => discovery
export const mailboxSchemas = (): typeof mailbox => mailbox
export const peerFrameSchemas = (): typeof peerFrames => peerFrames
export const relaySchemas = (): typeof relay => relay
export const rpcSchemas = (): typeof rpc => rpc
