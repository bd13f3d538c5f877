// RELAY_PLAY_TRACE=1: milliseconds since the process started, per step, on stderr — to see where a run's
// time goes (start-up, handshakes, plays) without a profiler. Silent otherwise.
import { performance } from 'node:perf_hooks';

const on = Boolean(process.env.RELAY_PLAY_TRACE);

export function trace(what: string): void {
  if (on) process.stderr.write(`[trace ${performance.now().toFixed(0).padStart(6)} ms] ${what}\n`);
}
