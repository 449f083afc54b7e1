import { describe, expect, it } from 'vitest'
import { parseFastCommand } from '../../src/cli/fast-path.js'

describe('parseFastCommand', () => {
  it('takes msg with a peer and text, and daemon status, with the flags they share with oclif', () => {
    expect(parseFastCommand(['msg', 'bob', 'hi', 'there'])).toEqual({ command: 'msg', words: ['bob', 'hi', 'there'], json: false })
    expect(parseFastCommand(['msg', 'bob', 'hi', '--timeout', '3', '--json', '--home', '/h'])).toEqual({
      command: 'msg',
      words: ['bob', 'hi'],
      json: true,
      home: '/h',
      timeout: 3,
    })
    expect(parseFastCommand(['msg', '--home=/h', 'bob', 'hi', '--timeout=0'])).toMatchObject({
      home: '/h',
      timeout: 0,
      words: ['bob', 'hi'],
    })
    expect(parseFastCommand(['daemon', 'status', '--json'])).toEqual({ command: 'status', words: [], json: true })
  })

  it('leaves everything else to oclif', () => {
    for (const argv of [
      [],
      ['peers'],
      ['daemon', 'start'],
      ['daemon', 'status', 'extra'],
      ['daemon', 'status', '--help'],
      ['msg', 'bob'], // stdin mode
      ['msg', 'bob', 'hi', '--bogus'],
      ['msg', 'bob', '--', '-1 degrees'],
      ['msg', 'bob', 'hi', '--timeout', 'soon'],
      ['msg', 'bob', 'hi', '--timeout'],
      ['msg', 'bob', 'hi', '--home'],
      ['msg', 'bob', 'hi', '--json=yes'],
      ['daemon', 'status', '--timeout', '3'],
    ]) {
      expect(parseFastCommand(argv), argv.join(' ')).toBeUndefined()
    }
  })
})
