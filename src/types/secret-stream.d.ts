// The parts of @hyperswarm/secret-stream (a streamx Duplex) that p2p uses.
declare module '@hyperswarm/secret-stream' {
  import type { EventEmitter } from 'node:events'
  import type { Duplex } from 'node:stream'

  interface KeyPair {
    publicKey: Buffer
    secretKey: Buffer
  }

  class SecretStream extends EventEmitter {
    constructor(isInitiator: boolean, rawStream: Duplex, options?: { keyPair?: KeyPair; remotePublicKey?: Buffer })
    static keyPair(seed?: Buffer): KeyPair
    readonly isInitiator: boolean
    readonly publicKey: Buffer | null
    readonly remotePublicKey: Buffer | null
    readonly rawStream: Duplex
    readonly destroyed: boolean
    write(data: Buffer | string): boolean
    end(): void
    destroy(error?: Error): void
    pause(): this
    resume(): this
  }

  export default SecretStream
}
