/**
 * Lines for stdout, written once per turn of the event loop: a pipeline printing one status line
 * per message (`seq 100000 | p2p msg bob`) made one write system call per line. `flush` before
 * anything else is printed (an error on stderr), so the order on a shared terminal stays right.
 */
export class LineOutput {
  private pending = ''

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {}

  line(text: string): void {
    if (this.pending === '') setImmediate(() => this.flush())
    this.pending += `${text}\n`
  }

  flush(): void {
    if (this.pending === '') return
    const data = this.pending
    this.pending = ''
    this.stream.write(data)
  }
}
