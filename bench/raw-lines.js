/** The raw baselines' line reader: calls `onLine` for every complete line, then `onTurnEnd` once per chunk read. */
export function onLines(socket, onLine, onTurnEnd = () => {}) {
  let buffer = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk) => {
    const text = buffer + chunk
    let start = 0
    for (;;) {
      const nl = text.indexOf('\n', start)
      if (nl < 0) break
      onLine(text.slice(start, nl))
      start = nl + 1
    }
    buffer = text.slice(start)
    onTurnEnd()
  })
  socket.on('error', () => socket.destroy())
}
