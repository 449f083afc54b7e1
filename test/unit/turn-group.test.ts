import { describe, expect, it } from 'vitest'
import { TurnGroup } from '../../src/daemon/stores/turn-group.js'

describe('TurnGroup', () => {
  it('gathers items into the open group until it is closed, then opens another', () => {
    const started: Array<{ items: readonly string[]; close: () => void }> = []
    const groups = new TurnGroup<string>((items, close) => started.push({ items, close }))
    groups.add('a')
    groups.add('b')
    expect(started.map((g) => g.items)).toEqual([['a', 'b']])
    started[0]?.close()
    groups.add('c')
    // Closing an old group again (its write ran, then its transaction ended) leaves the new one open.
    started[0]?.close()
    groups.add('d')
    expect(started.map((g) => g.items)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ])
  })
})
