// Who holds a port on the relay: the relay-side sshd session of a device's tunnel listens on the
// device's ports (loopback only). Parsed from `ss -Hltnp`; pure, for status and relay_sessions.

export interface Listener {
  address: string; // "127.0.0.1", "::1", "*"
  port: number;
  processes: { name: string; pid: number }[];
}

/** `ss -Hltnp` lines → listeners. Lines that don't parse are skipped. */
export function parseSs(text: string): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[0] !== 'LISTEN') continue;
    const local = f[3];
    const i = local.lastIndexOf(':');
    const port = Number(local.slice(i + 1));
    if (i < 0 || !Number.isInteger(port)) continue;
    const address = local
      .slice(0, i)
      .replace(/^\[|\]$/g, '')
      .replace(/%.*$/, '');
    const processes = [
      ...f
        .slice(5)
        .join(' ')
        .matchAll(/\("([^"]*)",pid=(\d+),fd=\d+\)/g),
    ].map((m) => ({ name: m[1], pid: Number(m[2]) }));
    out.push({ address, port, processes });
  }
  return out;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Pids of the sshd sessions listening on `port` on loopback (an sshd child holds a tunnel's -R listener). */
export function sessionPids(listeners: Listener[], port: number): number[] {
  const pids = new Set<number>();
  for (const l of listeners) {
    if (l.port !== port || !LOOPBACK.has(l.address)) continue;
    for (const p of l.processes) if (/^sshd/.test(p.name)) pids.add(p.pid);
  }
  return [...pids].sort((a, b) => a - b);
}

/** `ps -o pid=,etimes=` lines → pid → seconds since the process started. */
export function parseEtimes(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}
