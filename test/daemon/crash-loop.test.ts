/**
 * kill -9 of either side in the middle of a stream, twenty times in a row on the same pair of
 * profiles: nothing lost, nothing doubled, order kept. The kill lands at a different point of
 * the stream in each trial (after k answered sends, k spread over the stream), alternating sides.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { type DaemonProcess, pipelinedSends, startDaemonProcess } from '../helpers/daemon.js'
import { eventually } from '../helpers/eventually.js'
import { useNetwork } from '../helpers/network.js'

const TRIALS = 20
const PER_TRIAL = 200

const texts = (trial: number) =>
  Array.from({ length: PER_TRIAL }, (_, i) => `trial ${String(trial).padStart(2, '0')} msg ${String(i).padStart(3, '0')}`)

async function received(bob: DaemonProcess, trial: number): Promise<string[]> {
  const prefix = `trial ${String(trial).padStart(2, '0')} `
  const history = await bob.rpc('history', { peer: 'alice', limit: 100_000 })
  return history.filter((m) => m.from === 'alice' && m.text.startsWith(prefix)).map((m) => m.text)
}

describe('kill -9 in a loop', () => {
  const net = useNetwork(['alice', 'bob'], { ttl: 3 })

  beforeAll(async () => {
    expect((await net.alice.rpc('send', { to: 'bob', text: 'first contact' })).status).toBe('delivered')
  })

  it(`${TRIALS} trials, either side killed mid-stream: each message arrives exactly once, in order`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const all = texts(trial)
      const killSender = trial % 2 === 0
      const killAt = 10 + ((trial * 37) % (PER_TRIAL - 20))
      let killed: Promise<void> | undefined
      const answered = await pipelinedSends(net.alice.socket, 'bob', all, (count) => {
        if (count >= killAt && !killed) killed = killSender ? net.alice.kill() : net.bob.kill()
      })
      await killed
      if (killSender) net.alice = await startDaemonProcess({ home: net.alice.home, serverUrl: net.server.url })
      else net.bob = await startDaemonProcess({ home: net.bob.home, serverUrl: net.server.url })
      await eventually(async () => (await net.alice.rpc('status')).outbox.queued === 0, { timeout: 60_000 })
      const got = await received(net.bob, trial)
      const context = `trial ${trial}: killed the ${killSender ? 'sender' : 'receiver'} after ${killAt} answers`
      // A prefix of what was sent (nothing doubled, nothing out of order), holding every answered send.
      expect(got, context).toEqual(all.slice(0, got.length))
      expect(got.length, context).toBeGreaterThanOrEqual(answered.length)
      // The receiver was killed, the sender was not: everything it was asked to send arrives.
      if (!killSender) expect(got, context).toEqual(all)
    }
  }, 600_000)
})
