/**
 * Why the outbox names a row's properties instead of spreading the message into it: in V8 (Node
 * 20) an object literal with a spread followed by more properties leaves the fast path.
 * `node bench/object-spread.js` prints microseconds per object for each shape.
 */
const N = 1_000_000
const shapes = {
  '{ ...message, seq, storedAt }': (m) => ({ ...m, seq: 0, storedAt: 1 }),
  '{ id, peer, peerKey, text, at, seq, storedAt } (named)': (m) => ({
    id: m.id,
    peer: m.peer,
    peerKey: m.peerKey,
    text: m.text,
    at: m.at,
    seq: 0,
    storedAt: 1,
  }),
  '{ ...message } alone': (m) => ({ ...m }),
}
for (let round = 0; round < 2; round++) {
  for (const [name, make] of Object.entries(shapes)) {
    let keep = []
    const t0 = performance.now()
    for (let i = 0; i < N; i++) {
      keep.push(make({ id: `m${i}`, peer: 'bob', peerKey: 'k', text: 'hello', at: i }))
      if (keep.length > 1000) keep = []
    }
    console.log(`${name}: ${(((performance.now() - t0) * 1000) / N).toFixed(2)} us per object`)
  }
}
