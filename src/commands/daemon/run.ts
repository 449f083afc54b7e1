import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'

export default class DaemonRun extends BaseCommand {
  static override summary = 'Run the daemon in the foreground (for service managers; `daemon start` runs this detached)'
  static override description =
    'Prints "p2p daemon for USER on port N, control socket PATH" once ready and runs until SIGINT or SIGTERM. With --json, a failure to start is reported as {"error":{code,message}} on stdout.'
  static override examples = ['<%= config.bin %> daemon run --user alice --port 7000', '<%= config.bin %> daemon run --home /tmp/bob']

  static override flags = {
    user: Flags.string({ description: 'user id of this profile (needed on first start only)' }),
    port: Flags.integer({ description: 'TCP port for peer links (0 = any free port)', min: 0, max: 65535 }),
    server: Flags.string({ description: 'discovery server URL (default http://127.0.0.1:5000)' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(DaemonRun)
    // Loaded here, not at the top: only this command pays for the daemon's modules.
    const { runDaemon } = await import('../../daemon/main.js')
    const code = await runDaemon({
      home: this.home,
      ...(flags.user ? { userId: flags.user } : {}),
      ...(flags.port !== undefined ? { port: flags.port } : {}),
      ...(flags.server ? { serverUrl: flags.server } : {}),
    })
    this.exit(code)
  }
}
