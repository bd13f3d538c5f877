// RELAY_PLAY_TRACE=1: milliseconds since the process started, per step, on stderr — to see where a run's
// time goes (start-up, handshakes, plays) without a profiler. RELAY_PLAY_TRACE=cpu adds the CPU time the
// process has used so far (user+system), which a busy machine disturbs less than the wall time. Silent otherwise.
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

const on = process.env.RELAY_PLAY_TRACE;

export function trace(what: string): void {
  if (!on) return;
  const cpu =
    on === 'cpu' ? `, cpu ${(((u) => u.user + u.system)(process.cpuUsage()) / 1000).toFixed(0).padStart(5)} ms` : '';
  process.stderr.write(`[trace ${performance.now().toFixed(0).padStart(6)} ms${cpu}] ${what}\n`);
}

// Start-up ends when the first packet leaves for a host: the first TCP connection's SYN, sent when
// Socket#connect is called (ssh2 makes its own sockets, so that call is watched, once, only when tracing).
// bench/ reads this line.
if (on) {
  const connect = Socket.prototype.connect;
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
    Socket.prototype.connect = connect;
    // net.connect() passes its arguments on as one normalized array.
    const to = (Array.isArray(args[0]) ? args[0][0] : args[0]) as { host?: string; port?: number } | undefined;
    trace(`first byte to a host (TCP connect to ${to?.host}:${to?.port})`);
    return (connect as (...a: unknown[]) => Socket).apply(this, args);
  } as typeof connect;
}
