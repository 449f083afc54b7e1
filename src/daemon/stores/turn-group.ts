/**
 * Items gathered during one turn of the event loop and written together by one batcher write
 * (multi-row statements cost about half as much per row as a statement each: BENCHMARKS.md, B1).
 * The first item of a group opens it and hands it to `start`, which stages its write; that write,
 * or the failure of its transaction before it ran, calls `close`, and later items open a new group.
 */
export class TurnGroup<T> {
  private open: T[] | undefined

  constructor(private readonly start: (items: readonly T[], close: () => void) => void) {}

  add(item: T): void {
    let items = this.open
    if (!items) {
      const group: T[] = []
      items = group
      this.open = group
      this.start(group, () => {
        if (this.open === group) this.open = undefined
      })
    }
    items.push(item)
  }
}
