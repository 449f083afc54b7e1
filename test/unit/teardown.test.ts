import { describe, expect, it } from 'vitest'
import { Teardown } from '../../src/daemon/teardown.js'

describe('teardown stack', () => {
  it('runs steps newest first, once, and goes on past a failing step', async () => {
    const ran: string[] = []
    const failures: string[] = []
    const teardown = new Teardown((name) => failures.push(name))
    teardown.push('close the database', () => ran.push('db'))
    teardown.push('flush', async () => {
      await new Promise((r) => setTimeout(r, 1))
      ran.push('flush')
    })
    teardown.push('broken', () => {
      throw new Error('boom')
    })
    teardown.push('unregister', () => ran.push('unregister'))
    expect(teardown.pending()).toEqual(['unregister', 'broken', 'flush', 'close the database'])
    await Promise.all([teardown.run(), teardown.run()])
    expect(ran).toEqual(['unregister', 'flush', 'db'])
    expect(failures).toEqual(['broken'])
    expect(teardown.pending()).toEqual([])
  })
})
