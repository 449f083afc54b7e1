/**
 * Preloaded into both daemons by alloc-per-message.js (`--require`): V8's sampling heap profiler
 * from the start, counting what minor and major GCs collected too (so it measures allocation, not
 * what is live); on SIGUSR2 it writes the profile to $P2P_HEAP_SAMPLE_DIR/PID.heapprofile.
 */
const fs = require('node:fs')
const inspector = require('node:inspector')
const path = require('node:path')

const session = new inspector.Session()
session.connect()
session.post('HeapProfiler.startSampling', {
  samplingInterval: 8192,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
})
process.on('SIGUSR2', () => {
  session.post('HeapProfiler.stopSampling', (error, result) => {
    const out = path.join(process.env.P2P_HEAP_SAMPLE_DIR, `${process.pid}.heapprofile`)
    fs.writeFileSync(out, JSON.stringify(error ? { error: String(error) } : result.profile))
  })
})
