// relay_sessions (relay-play's own module, runs on the relay): end the tunnel sessions that hold
// the given relay ports — a removed device's tunnel must drop at once, not when it next reconnects.
// Only sshd processes listening on loopback are ended; a port nobody holds is no change.
import { type Module, type Plan, shellJoin } from '../../engine/index.js';
import { parseSs, sessionPids } from '../sessions.js';

interface SessionsArgs {
  close_ports: (number | string)[];
}

const ports = (args: SessionsArgs) =>
  args.close_ports.map(Number).filter((p) => Number.isInteger(p) && p > 0 && p <= 65535);

export const relay_sessions: Module<SessionsArgs, 'listeners'> = {
  schema: {
    type: 'object',
    properties: { close_ports: { type: 'array', items: { type: ['integer', 'string'], pattern: '^[0-9]+$' } } },
    required: ['close_ports'],
    additionalProperties: false,
  },

  // Nothing to read when no port is to be closed.
  reads: (args) => (ports(args).length ? { listeners: { command: shellJoin(['ss', '-Hltnp']) } } : {}),

  plan(args, _ctx, read): Plan {
    if (!ports(args).length) return { changed: false, steps: [], result: { closed: [] } };
    const r = read.listeners;
    if (r.code !== 0)
      return { changed: false, steps: [], failed: `ss -Hltnp failed: ${r.stderr.trim() || `exit ${r.code}`}` };
    const listeners = parseSs(r.stdout);
    const held = ports(args)
      .map((port) => ({ port, pids: sessionPids(listeners, port) }))
      .filter((h) => h.pids.length);
    if (!held.length) return { changed: false, steps: [], result: { closed: [] } };
    const pids = [...new Set(held.flatMap((h) => h.pids))];
    return {
      changed: true,
      // A session that ended meanwhile is fine: kill's complaint about it is not a failure.
      steps: [
        {
          describe: `end the tunnel sessions on relay ports ${held.map((h) => h.port).join(', ')} (pids ${pids.join(' ')})`,
          command: `kill -TERM ${pids.join(' ')} 2>/dev/null; true`,
        },
      ],
      diff: [
        {
          before_header: 'tunnel sessions',
          after_header: 'tunnel sessions',
          before: held.map((h) => `port ${h.port}: pid ${h.pids.join(' ')}\n`).join(''),
          after: '',
        },
      ],
      result: { closed: held.map((h) => h.port) },
    };
  },
};
