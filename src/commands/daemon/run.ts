import { Command, Flags } from '@oclif/core'

export default class DaemonRun extends Command {
  static override summary = 'Run the daemon in the foreground (for service managers; `daemon start` runs this detached)'
  static override examples = ['<%= config.bin %> daemon run --user alice --port 7000', '<%= config.bin %> daemon run --home /tmp/bob']

  static override flags = {
    home: Flags.string({ description: 'profile directory (default: $P2P_HOME, else $XDG_DATA_HOME/p2p, else ~/.local/share/p2p)' }),
    user: Flags.string({ description: 'user id of this profile (needed on first start only)' }),
    port: Flags.integer({ description: 'TCP port for peer links (0 = any free port)', min: 0, max: 65535 }),
    server: Flags.string({ description: 'discovery server URL (default http://127.0.0.1:5000)' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(DaemonRun)
    const { resolveHome } = await import('../../protocol/profile.js')
    const { runDaemon } = await import('../../daemon/main.js')
    const code = await runDaemon({
      home: resolveHome(flags.home),
      ...(flags.user ? { userId: flags.user } : {}),
      ...(flags.port !== undefined ? { port: flags.port } : {}),
      ...(flags.server ? { serverUrl: flags.server } : {}),
    })
    this.exit(code)
  }
}
