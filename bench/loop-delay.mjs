// Preloaded into a paylink process by bench/slow-processor.ts (`node --import ./bench/loop-delay.mjs`):
// how late its event loop runs. On SIGUSR2 it prints `loop-delay <n> {"p50","p99","max"}` (ms
// late, the sampling interval taken off) for the time since the previous signal, and starts
// again. A process that waits for nothing but is late anyway is waiting for a CPU.
import { monitorEventLoopDelay } from 'node:perf_hooks'

const RESOLUTION_MS = 2
const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
h.enable()
let n = 0
const late = (ns) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 10) / 10)
process.on('SIGUSR2', () => {
  process.stderr.write(`loop-delay ${n++} ${JSON.stringify({ p50: late(h.percentile(50)), p99: late(h.percentile(99)), max: late(h.max) })}\n`)
  h.reset()
})
