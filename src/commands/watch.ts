import { BaseCommand } from '../cli/base-command.js'
import { onMessageEvent } from '../cli/control-client.js'
import { cursorFlag } from '../cli/flags.js'
import { messageLine } from '../cli/format.js'
import { ErrorCode, P2PError } from '../protocol/errors.js'

export default class Watch extends BaseCommand {
  static override summary = 'Stream incoming messages as they arrive, until Ctrl-C or the daemon stops'
  static override description =
    `Each message is written as soon as it arrives (line-buffered), so pipelines see it at once. Muted peers are not shown. With --json every line is {cursor,id,from,text,at}; pass the last cursor to --since to resume without missing or repeating anything.

Exits 0 on Ctrl-C (SIGINT) or SIGTERM, and non-zero with a message when the daemon stops or dies.`
  static override examples = [
    '<%= config.bin %> watch',
    '<%= config.bin %> watch --json | jq -r .text',
    '<%= config.bin %> watch --json --since 1234',
  ]
  static override flags = {
    since: cursorFlag({ description: 'first replay the messages received after this cursor (from an earlier watch --json)' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Watch)
    const json = this.jsonEnabled()
    const c = this.colors
    const client = this.daemon

    const ended = new Promise<void>((resolve, reject) => {
      const stop = () => resolve()
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      // Reader gone (`p2p watch | head -1`): nothing more to do.
      process.stdout.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' ? resolve() : reject(error)))
      client.onClose((error) => {
        if (error)
          reject(new P2PError(ErrorCode.DaemonUnreachable, 'the daemon stopped; no more messages (restart it with p2p daemon start)'))
      })
    })
    ended.catch(() => undefined) // awaited below; this only keeps an early rejection from counting as unhandled
    onMessageEvent(client, (event) => {
      // Writes to a pipe or file are synchronous in Node on Linux: each message leaves at once.
      if (json) this.jsonLine({ cursor: event.cursor, id: event.id, from: event.from, text: event.text, at: event.at })
      else process.stdout.write(`${messageLine(event.at, event.from, event.text, c)}\n`)
    })
    const { cursor } = await client.call('subscribe', flags.since !== undefined ? { since: flags.since } : {})
    if (!json && process.stderr.isTTY) process.stderr.write(`watching for messages (cursor ${cursor}); Ctrl-C to stop\n`)
    await ended
  }
}
