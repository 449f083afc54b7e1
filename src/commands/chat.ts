import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { BaseCommand } from '../cli/base-command.js'
import { CHAT_COMMANDS } from '../cli/chat/commands.js'
import { runChat } from '../cli/chat/session.js'
import { assertSettingsMatch, ensureDaemon, probeStatus } from '../cli/daemon-launcher.js'
import { daemonFlags, daemonSettings, peerArg } from '../cli/flags.js'
import { paletteFor } from '../cli/format.js'
import { ErrorCode, P2PError } from '../protocol/errors.js'

export default class Chat extends BaseCommand {
  static override summary = 'Chat interactively: incoming messages as they arrive, slash commands to act'
  static override description =
    `Commands: ${CHAT_COMMANDS.map((c) => c.usage).join(', ')}. After /query <peer>, lines without a slash go to that peer. Tab completes commands and peer ids.

If the daemon is not running, it is started first (as daemon start does) when --user is given or the profile already has a user. When stdin is not a terminal, commands are read line by line and the chat ends at end of input, once everything has been done; with --json every output line is a JSON object {type: "message"|"result"|"error"|"info", ...}.`
  static override examples = [
    '<%= config.bin %> chat',
    '<%= config.bin %> chat bob',
    '<%= config.bin %> chat --user alice --server http://discovery.example:5000',
    'printf "/msg bob hi\\n/history bob\\n" | <%= config.bin %> chat',
  ]
  static override args = { peer: peerArg({ description: 'start talking to this peer (as /query PEER)' }) }
  static override flags = daemonFlags('; used when chat has to start the daemon')

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Chat)
    const query = args.peer
    let status = await probeStatus(this.paths)
    if (!status) {
      // One command puts a user online, as in the seed: start the daemon when we know who we are.
      if (flags.user === undefined && !existsSync(this.paths.identity)) {
        throw new P2PError(ErrorCode.DaemonNotRunning, `${this.notRunningMessage()} (or: p2p chat --user ID)`)
      }
      const outcome = await ensureDaemon({
        paths: this.paths,
        bin: join(this.config.root, 'bin', 'run.js'),
        ...daemonSettings(flags),
      })
      status = outcome.status
      if (outcome.started) this.logToStderr(`started the daemon for ${status.userId} (pid ${status.pid})`)
    } else {
      assertSettingsMatch(daemonSettings(flags), status)
    }

    const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY)
    const code = await runChat({
      client: this.daemon,
      events: this.newDaemonClient(),
      me: status.userId,
      ...(query ? { query } : {}),
      input: process.stdin,
      output: process.stdout,
      interactive,
      palette: paletteFor(process.stdout),
      json: this.jsonEnabled(),
      historyFile: this.paths.chatHistory,
    })
    if (code !== 0) this.exit(code)
  }
}
