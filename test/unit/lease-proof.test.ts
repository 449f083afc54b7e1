/** The lease proof (lease-proof.ts): derivation, MAC, sealing, and the daemon's client using it. */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { DiscoveryClient } from '../../src/daemon/discovery-client.js'
import { KeepaliveRequestSchema } from '../../src/protocol/discovery.js'
import { generateIdentity, toHex } from '../../src/protocol/identity.js'
import { deriveLeaseKey, leaseMac, openLeaseKey, sealLeaseKey, verifyLeaseMac } from '../../src/protocol/lease-proof.js'

const SECRET = Buffer.alloc(32, 7)

describe('lease keys and MACs', () => {
  it('a lease key depends on the secret, the user, the key and the instance', () => {
    const pk = 'a'.repeat(64)
    const key = deriveLeaseKey(SECRET, 'alice', pk, 'laptop-aaaa')
    expect(key).toHaveLength(32)
    expect(deriveLeaseKey(SECRET, 'alice', pk, 'laptop-aaaa')).toEqual(key)
    for (const other of [
      deriveLeaseKey(Buffer.alloc(32, 8), 'alice', pk, 'laptop-aaaa'),
      deriveLeaseKey(SECRET, 'bob', pk, 'laptop-aaaa'),
      deriveLeaseKey(SECRET, 'alice', 'b'.repeat(64), 'laptop-aaaa'),
      deriveLeaseKey(SECRET, 'alice', pk, 'copied-bbbb'),
      deriveLeaseKey(SECRET, 'alice', pk),
    ])
      expect(other).not.toEqual(key)
  })

  it('a MAC verifies for its body only', () => {
    const key = deriveLeaseKey(SECRET, 'alice', 'a'.repeat(64))
    const body = { userId: 'alice', ts: 1000 }
    const mac = leaseMac(key, body)
    expect(mac).toMatch(/^[0-9a-f]{64}$/)
    expect(verifyLeaseMac(key, body, mac)).toBe(true)
    expect(verifyLeaseMac(key, { userId: 'alice', ts: 1001 }, mac)).toBe(false)
    expect(verifyLeaseMac(key, { ...body, instance: 'laptop-aaaa' }, mac)).toBe(false)
    expect(verifyLeaseMac(deriveLeaseKey(SECRET, 'bob', 'a'.repeat(64)), body, mac)).toBe(false)
    expect(verifyLeaseMac(key, body, 'ab')).toBe(false)
  })

  it('a sealed lease key opens with the private key it was sealed to, and no other', () => {
    const alice = generateIdentity()
    const key = deriveLeaseKey(SECRET, 'alice', toHex(alice.publicKey))
    const sealed = sealLeaseKey(key, toHex(alice.publicKey))
    expect(sealed).toHaveLength((32 + 48) * 2)
    expect(openLeaseKey(sealed, alice)).toEqual(key)
    expect(openLeaseKey(sealed, generateIdentity())).toBeUndefined()
    expect(openLeaseKey(`${sealed.slice(0, -2)}00`, alice)).toBeUndefined()
    expect(openLeaseKey('abcd', alice)).toBeUndefined()
  })

  it('a keep-alive body carries exactly one of sig and mac', () => {
    const base = { userId: 'alice', ts: 1 }
    expect(KeepaliveRequestSchema.safeParse({ ...base, mac: 'a'.repeat(64) }).success).toBe(true)
    expect(KeepaliveRequestSchema.safeParse({ ...base, sig: 'a'.repeat(128) }).success).toBe(true)
    expect(KeepaliveRequestSchema.safeParse({ ...base, sig: 'a'.repeat(128), mac: 'a'.repeat(64) }).success).toBe(false)
    expect(KeepaliveRequestSchema.safeParse(base).success).toBe(false)
  })
})

describe('the daemon client with a lease key', () => {
  let server: Server | undefined
  afterEach(() => {
    server?.closeAllConnections()
    server?.close()
  })

  /** A stub server that hands out a lease key, records keep-alive bodies, and refuses MACs when told to. */
  async function stub(refuseMacs: () => boolean) {
    const keepalives: Record<string, unknown>[] = []
    server = createServer((req, res) => {
      let text = ''
      req.on('data', (c) => (text += c))
      req.on('end', () => {
        const body = JSON.parse(text) as { userId: string; publicKey: string; mac?: string }
        const reply = (status: number, json: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json))
        const expiresAt = new Date(Date.now() + 30_000).toISOString()
        if (req.url === '/v1/register') {
          const leaseKey = sealLeaseKey(deriveLeaseKey(SECRET, body.userId, body.publicKey), body.publicKey)
          return reply(200, { userId: body.userId, host: 'h', port: 1, expiresAt, leaseKey })
        }
        keepalives.push(body)
        if (body.mac && refuseMacs()) return reply(401, { error: { code: 'bad_signature', message: 'no' } })
        reply(200, { expiresAt })
      })
    })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, keepalives }
  }

  it('proves keep-alives with the MAC after registering, and signs again when the server refuses it', async () => {
    let refuse = false
    const { url, keepalives } = await stub(() => refuse)
    const identity = generateIdentity()
    const client = new DiscoveryClient(url, identity, 'alice')
    await client.keepalive()
    expect(keepalives[0]).toHaveProperty('sig')
    await client.register(7000)
    await client.keepalive()
    const proven = keepalives[1] as { userId: string; ts: number; mac: string }
    expect(proven).not.toHaveProperty('sig')
    expect(verifyLeaseMac(deriveLeaseKey(SECRET, 'alice', toHex(identity.publicKey)), proven, proven.mac)).toBe(true)
    refuse = true
    await client.keepalive()
    expect(keepalives.slice(2).map((b) => ('mac' in b ? 'mac' : 'sig'))).toEqual(['mac', 'sig'])
    // The key is dropped until the next registration.
    await client.keepalive()
    expect(keepalives[4]).toHaveProperty('sig')
  })
})
