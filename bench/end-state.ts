// What a tool left on every host of the lab, with keys masked: the relay's user, sshd rules, keys and
// fleet record, each device's tunnel user, key, pinned relay key and unit, the client's config and
// pinned keys. Two tools did the same work when these are equal on every host; the bench compares them
// and refuses to publish a comparison where they are not.
import { diffLines } from 'diff';
import type { Lab } from '../test/lab/index.js';

/** "host: item" → what it showed (a failing command's exit code and error are part of it). */
export type EndState = Record<string, string>;

const MASK = `sed -E 's#(ssh-ed25519) [A-Za-z0-9+/=]+#\\1 KEY#g'`;

const RELAY: [string, string][] = [
  ['relay user', "getent passwd relay | cut -d: -f1,6,7; sudo passwd -S relay | cut -d' ' -f1,2"],
  [
    'sshd drop-in',
    'sudo stat -c "%U:%G %a" /etc/ssh/sshd_config.d/relay-play.conf && sudo cat /etc/ssh/sshd_config.d/relay-play.conf',
  ],
  [
    'authorized_keys',
    `sudo stat -c "%U:%G %a" /home/relay/.ssh /home/relay/.ssh/authorized_keys && sudo cat /home/relay/.ssh/authorized_keys | ${MASK}`,
  ],
  [
    'fleet state',
    'sudo stat -c "%U:%G %a" /var/lib/relay-play /var/lib/relay-play/fleet.json && sudo cat /var/lib/relay-play/fleet.json',
  ],
  ['sshd running', 'systemctl is-active ssh'],
  [
    'tunnel reaper',
    'stat -c "%U:%G %a" /usr/local/lib/relay-play/reap-stale-tunnels /etc/systemd/system/relay-play-reaper.service && sha256sum /usr/local/lib/relay-play/reap-stale-tunnels /etc/systemd/system/relay-play-reaper.service | cut -d" " -f1; systemctl is-enabled relay-play-reaper; systemctl is-active relay-play-reaper',
  ],
];
const DEVICE: [string, string][] = [
  ['tunnel user', 'getent passwd relay-tunnel | cut -d: -f1,6,7'],
  [
    'relay key',
    `sudo stat -c "%U %a" /etc/relay-play /etc/relay-play/id_relay && sudo cut -d' ' -f1,3- /etc/relay-play/id_relay.pub`,
  ],
  [
    'pinned relay key',
    `sudo stat -c "%U:%G %a" /etc/relay-play/known_hosts && sudo cat /etc/relay-play/known_hosts | ${MASK}`,
  ],
  [
    'unit',
    'stat -c "%U:%G %a" /etc/systemd/system/relay-tunnel.service && cat /etc/systemd/system/relay-tunnel.service; systemctl is-enabled relay-tunnel; systemctl is-active relay-tunnel',
  ],
];
const CLIENT: [string, string][] = [
  ['ssh config', 'stat -c "%U %a" ~/.ssh/config && cat ~/.ssh/config'],
  ['known_hosts.relay-play', `stat -c "%U %a" ~/.ssh/known_hosts.relay-play && ${MASK} ~/.ssh/known_hosts.relay-play`],
  ['jump key', "stat -c '%U %a' ~/.ssh/id_relay_access && cut -d' ' -f1,3- ~/.ssh/id_relay_access.pub"],
];

/** The items of one host in one exec: each framed by `@@<n>` and `@@rc <exit code>` lines. */
async function readHost(lab: Lab, host: string, items: [string, string][]): Promise<EndState> {
  const script = items.map(([, cmd], i) => `echo '@@${i}'; { ${cmd}\n} 2>&1; echo "@@rc $?"`).join('\n');
  const r = await lab.exec(host, 'bash -s', { input: script, timeoutMs: 120_000 });
  const out: EndState = {};
  if (r.code !== 0 && !r.stdout.includes('@@0')) {
    for (const [name] of items) out[`${host}: ${name}`] = `[could not read: exit ${r.code}] ${r.stderr.trim()}`;
    return out;
  }
  items.forEach(([name], i) => {
    const m = new RegExp(`^@@${i}\\n([\\s\\S]*?)@@rc (\\d+)$`, 'm').exec(r.stdout);
    out[`${host}: ${name}`] = !m ? '[no output]' : m[1].trim() + (m[2] === '0' ? '' : `\n[exit ${m[2]}]`);
  });
  const fleet = `${host}: fleet state`;
  if (out[fleet] !== undefined) out[fleet] = normalizeFleet(out[fleet]);
  return out;
}

/** fleet.json as data (the tools format JSON differently): ports, which keys are recorded, clients. */
function normalizeFleet(text: string): string {
  const lines = text.split('\n');
  const owners = lines.slice(0, 2).join('\n');
  try {
    const f = JSON.parse(lines.slice(2).join('\n')) as {
      devices: Record<string, { port: number; relay_key?: string; host_key?: string; login_user?: string }>;
      clients?: Record<string, { jump_key?: string }>;
    };
    const devices = Object.entries(f.devices)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([d, v]) => [d, v.port, !!v.relay_key, !!v.host_key, v.login_user]);
    const clients = Object.entries(f.clients ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([c, v]) => [c, !!v.jump_key]);
    return `${owners}\n${JSON.stringify({ devices, clients })}`;
  } catch {
    return `${owners}\n[not JSON] ${lines.slice(2).join('\n').slice(0, 300)}`;
  }
}

/** The end state of every host: the relay, each device, the client (at most 16 reads at a time). */
export async function endState(lab: Lab, relay: string, devices: string[], client: string): Promise<EndState> {
  const jobs: [string, [string, string][]][] = [
    [relay, RELAY],
    ...devices.map((d): [string, [string, string][]] => [d, DEVICE]),
    [client, CLIENT],
  ];
  const out: EndState = {};
  for (let i = 0; i < jobs.length; i += 16) {
    const parts = await Promise.all(jobs.slice(i, i + 16).map(([h, items]) => readHost(lab, h, items)));
    for (const p of parts) Object.assign(out, p);
  }
  return out;
}

/** Where `b` differs from `a`: per item, its lines only in a ("- label: ...") or only in b ("+ label: "), at most 8. */
export function endStateDiff(a: EndState, b: EndState, labels: [string, string]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (a[key] === b[key]) continue;
    const lines = diffLines(`${a[key] ?? '[missing]'}\n`, `${b[key] ?? '[missing]'}\n`)
      .filter((part) => part.added || part.removed)
      .flatMap((part) =>
        part.value
          .replace(/\n$/, '')
          .split('\n')
          .map((l) => (part.removed ? `- ${labels[0]}: ${l}` : `+ ${labels[1]}: ${l}`)),
      );
    out[key] = lines.length > 8 ? [...lines.slice(0, 8), `... ${lines.length - 8} more`] : lines;
  }
  return out;
}
