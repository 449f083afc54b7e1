import { describe, expect, it } from 'vitest'
import { parseDaemonRun } from '../../src/cli/daemon-run-path.js'

describe('parseDaemonRun', () => {
  it('takes the command lines daemon start, service managers and the tests give', () => {
    expect(
      parseDaemonRun([
        '--json',
        '--home',
        '/h',
        '--user',
        'alice',
        '--port',
        '0',
        '--server',
        'http://127.0.0.1:5000,http://10.0.0.2:5000',
      ]),
    ).toEqual({
      args: [],
      flags: { user: 'alice', port: 0, server: 'http://127.0.0.1:5000,http://10.0.0.2:5000' },
      json: true,
      home: '/h',
    })
    expect(parseDaemonRun([])).toEqual({ args: [], flags: {}, json: false })
    expect(parseDaemonRun(['--listen=off', '--advertise', 'example.org:7000', '--port=65535'])).toEqual({
      args: [],
      flags: { listen: 'off', advertise: 'example.org:7000', port: 65535 },
      json: false,
    })
    // '' forgets a remembered --listen or --advertise, as oclif takes it.
    expect(parseDaemonRun(['--listen', '', '--advertise', '', '--user', '', '--server', ''])).toMatchObject({
      flags: { listen: '', advertise: '', user: '', server: '' },
    })
  })

  it('leaves to oclif what oclif refuses or explains', () => {
    for (const argv of [
      ['--help'],
      ['-h'],
      ['extra'],
      ['--port', ''],
      ['--port', '-1'],
      ['--port', '65536'],
      ['--port', 'any'],
      ['--port'],
      ['--server', 'ftp://example.org'],
      ['--server', 'localhost:5000'],
      ['--listen', 'not a host'],
      ['--advertise', 'host:99999'],
      ['--user', 'a', '--user', 'b'],
      ['--home', ''],
      ['--json=yes'],
      ['--verbose'],
      ['--', '--user', 'a'],
    ]) {
      expect(parseDaemonRun(argv), argv.join(' ')).toBeUndefined()
    }
  })
})
