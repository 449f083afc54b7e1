/**
 * Commands run in process against a fake daemon (BaseCommand.createClient): the request each
 * sends, its --json document, and the exit code each daemon error maps to.
 */
import { PassThrough, Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { CHAT_COMMANDS } from '../../src/cli/chat/commands.js'
import { runChat } from '../../src/cli/chat/session.js'
import { paletteFor } from '../../src/cli/format.js'
import Block from '../../src/commands/block.js'
import Msg from '../../src/commands/msg.js'
import Mute from '../../src/commands/mute.js'
import { DEFAULT_SEND_TIMEOUT_S } from '../../src/protocol/defaults.js'
import { ErrorCode } from '../../src/protocol/errors.js'
import type { PolicyResult } from '../../src/protocol/rpc.js'
import { runInProcess } from '../helpers/command.js'
import { FakeClient, fails } from '../helpers/fake-client.js'

const blocked: PolicyResult = { peer: 'bob', changed: true, blocked: true, muted: false }

describe('commands in process, with a fake daemon', () => {
  it('block: sends the normalized peer, returns the result, prints it as JSON', async () => {
    const client = new FakeClient({ block: () => blocked })
    const run = await runInProcess(Block, ['Bob', '--json'], client)
    expect(run).toMatchObject({ result: blocked, exitCode: 0, stderr: '' })
    expect(JSON.parse(run.stdout)).toEqual(blocked)
    expect(client.calls).toEqual([{ method: 'block', params: { peer: 'bob' } }])
    expect(client.closed).toBe(true)

    const human = await runInProcess(Block, ['bob'], new FakeClient({ block: () => blocked }))
    expect(human).toMatchObject({ exitCode: 0, stdout: 'blocked bob\n' })
  })

  it('an invalid peer is a usage error before the daemon is asked', async () => {
    const client = new FakeClient({})
    const run = await runInProcess(Block, ['Not Valid!', '--json'], client)
    expect(run.exitCode).toBe(2)
    expect(JSON.parse(run.stdout).error.code).toBe('invalid_user_id')
    expect(client.calls).toEqual([])
  })

  it('mute --for sends seconds; a bad duration exits 2 naming the flag', async () => {
    const client = new FakeClient({ mute: ({ peer }) => ({ peer, changed: true, blocked: false, muted: true }) })
    expect((await runInProcess(Mute, ['bob', '--for', '1h30m'], client)).exitCode).toBe(0)
    expect(client.calls).toEqual([{ method: 'mute', params: { peer: 'bob', for: 5400 } }])
    const bad = await runInProcess(Mute, ['bob', '--for', 'soon'], client)
    expect(bad).toMatchObject({ exitCode: 2, stdout: '' })
    expect(bad.stderr).toBe('p2p: --for "soon" is not a duration such as 30m, 2h or 90 (seconds)\n')
    expect(client.calls).toHaveLength(1)
  })

  it('msg: words joined by spaces, the default timeout, {id,to,status}', async () => {
    const client = new FakeClient({ send: ({ to }) => ({ id: 'm1', to, status: 'delivered' }) })
    const run = await runInProcess(Msg, ['bob', 'hello', 'there', '--json'], client)
    expect(run).toMatchObject({ exitCode: 0, result: { id: 'm1', to: 'bob', status: 'delivered' } })
    expect(JSON.parse(run.stdout)).toEqual({ id: 'm1', to: 'bob', status: 'delivered' })
    expect(client.calls).toEqual([{ method: 'send', params: { to: 'bob', text: 'hello there', timeout: DEFAULT_SEND_TIMEOUT_S } }])
  })

  it.each([
    [ErrorCode.UnknownPeer, 4],
    [ErrorCode.Blocked, 5],
    [ErrorCode.DaemonNotRunning, 3],
    [ErrorCode.MessageTooLarge, 2],
    [ErrorCode.KeyChanged, 1],
    [ErrorCode.DaemonUnreachable, 1],
  ])('a daemon error %s exits %i with one JSON error document', async (code, exitCode) => {
    const run = await runInProcess(Msg, ['bob', 'hi', '--json'], new FakeClient({ send: fails(code, 'no luck') }))
    expect(run).toMatchObject({ exitCode, stderr: '', result: undefined })
    expect(JSON.parse(run.stdout)).toEqual({ error: { code, message: 'no luck' } })

    const human = await runInProcess(Msg, ['bob', 'hi'], new FakeClient({ send: fails(code, 'no luck') }))
    expect(human).toMatchObject({ exitCode, stdout: '', stderr: 'p2p: no luck\n' })
  })
})

describe('chat in process, with a fake daemon', () => {
  const chat = async (lines: string[], client: FakeClient) => {
    const events = new FakeClient({ subscribe: () => ({ cursor: '0' }) })
    const output = new PassThrough()
    let text = ''
    output.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
    const input = Readable.from(lines.map((l) => `${l}\n`))
    const code = await runChat({ client, events, me: 'alice', input, output, interactive: false, palette: paletteFor({}), json: false })
    return { code, text }
  }

  it('/help lists every command of the table, with its usage and what it does', async () => {
    const { code, text } = await chat(['/help'], new FakeClient({ peers: () => [] }))
    expect(code).toBe(0)
    for (const command of CHAT_COMMANDS) {
      expect(text, command.name).toContain(command.usage)
      expect(text, command.name).toContain(command.help)
    }
  })

  it('/mute with a duration sends seconds, and /query then a plain line sends to that peer', async () => {
    const client = new FakeClient({
      peers: () => [],
      mute: ({ peer }) => ({ peer, changed: true, blocked: false, muted: true }),
      send: ({ to }) => ({ id: 'm1', to, status: 'queued' }),
    })
    const { code, text } = await chat(['/mute Bob 30m', '/query bob', 'hi there'], client)
    expect(code).toBe(0)
    expect(client.calls.filter((call) => call.method !== 'peers')).toEqual([
      { method: 'mute', params: { peer: 'bob', for: 1800 } },
      { method: 'send', params: { to: 'bob', text: 'hi there' } },
    ])
    expect(text).toMatch(/^queued for bob \(sent when they are back\)$/m)
  })
})
