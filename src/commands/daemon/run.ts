import { BaseCommand } from '../../cli/base-command.js'
import { daemonFlags, daemonSettings } from '../../cli/flags.js'

export default class DaemonRun extends BaseCommand {
  static override summary = 'Run the daemon in the foreground (for service managers; `daemon start` runs this detached)'
  static override description =
    'Prints "p2p daemon for USER on port N, control socket PATH" once ready and runs until SIGINT or SIGTERM. With --json, a failure to start is reported as {"error":{code,message}} on stdout.'
  static override examples = ['<%= config.bin %> daemon run --user alice --port 7000', '<%= config.bin %> daemon run --home /tmp/bob']

  static override flags = daemonFlags()

  async run(): Promise<void> {
    const { flags } = await this.parse(DaemonRun)
    // Loaded here, not at the top: only this command pays for the daemon's modules.
    const { runDaemon } = await import('../../daemon/main.js')
    this.exit(await runDaemon({ home: this.home, ...daemonSettings(flags) }))
  }
}
