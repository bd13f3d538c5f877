// What a tool left on every host of the lab, with keys masked: the relay's user, sshd rules, keys and
// fleet record, each device's tunnel user, key, pinned relay key and unit, the client's config and
// pinned keys, and on every host the list of files where relay-play puts its own (type, owner, group,
// mode). Two tools did the same work when these are equal on every host; the bench compares them
// and refuses to publish a comparison where they are not.
//
// What only relay-play installs (RELAY_PLAY_ONLY: the tunnel's rollback unit and script, the device's
// loopback sshd drop-in, its run's lock, markers and status cache) has no counterpart in the Ansible
// mirror: it is read on every host for every tool and reported, never compared. Anything else in those
// places that one tool leaves and the other does not makes the end states differ.
import { diffLines } from 'diff';
import type { Lab } from '../test/lab/index.js';

/** "host: item" → what it showed (a failing command's exit code and error are part of it). */
export type EndState = Record<string, string>;

export type Role = 'relay' | 'device' | 'client';

/** A path (and everything under it) that only relay-play installs on hosts of `roles`, and why. */
export interface RelayPlayOnly {
  roles: Role[];
  path: string;
  what: string;
}

/** What relay-play installs and the Ansible mirror (bench/ansible/site.yml) does not: never compared. */
export const RELAY_PLAY_ONLY: RelayPlayOnly[] = [
  {
    roles: ['device'],
    path: '/etc/systemd/system/relay-play-rollback.service',
    what: "the tunnel's rollback unit (enabled: undoes a tunnel change relay-play did not confirm, also at boot)",
  },
  {
    roles: ['device'],
    path: '/etc/systemd/system/multi-user.target.wants/relay-play-rollback.service',
    what: "the rollback unit's enablement link",
  },
  {
    roles: ['device'],
    path: '/usr/local/lib/relay-play',
    what: "the rollback unit's script, tunnel-rollback, and the network watcher's, tunnel-netwatch (on the relay this directory holds the reaper, compared)",
  },
  {
    roles: ['device'],
    path: '/etc/relay-play/.rollback.lock',
    what: "the lock of a tunnel change and its rollback (the rollback's state, /etc/relay-play/rollback/, exists only while a change is unconfirmed)",
  },
  {
    roles: ['device'],
    path: '/etc/relay-play/rollback.confirmed',
    what: 'the token of the last tunnel change confirmed, so a confirm whose answer was lost is answered the same again',
  },
  {
    roles: ['device'],
    path: '/etc/ssh/sshd_config.d/relay-play-loopback.conf',
    what: "the device's sshd drop-in exempting loopback (tunnel logins) from PerSourcePenalties: OpenSSH 9.8+ only, so not on Debian 12 hosts",
  },
  {
    roles: ['relay', 'device', 'client'],
    path: '/root/.relay-play',
    what: 'markers of notified handlers (pending/: empty once they ran), so a run killed midway still runs them',
  },
  { roles: ['relay'], path: '/run/lock/relay-play.lock', what: 'the run lock (one relay-play run at a time)' },
  {
    roles: ['relay'],
    path: '/usr/local/lib/relay-play/watch-tunnels',
    what: 'the tunnel watcher (last seen, Prometheus metrics, webhooks): not in the Ansible mirror',
  },
  {
    roles: ['relay'],
    path: '/etc/systemd/system/relay-play-watch.service',
    what: "the tunnel watcher's unit",
  },
  {
    roles: ['relay'],
    path: '/etc/systemd/system/multi-user.target.wants/relay-play-watch.service',
    what: "the tunnel watcher unit's enablement link",
  },
  {
    roles: ['relay'],
    path: '/var/lib/relay-play/watch',
    what: "the tunnel watcher's state (each device's state, last seen) and its queue of webhook events",
  },
  {
    roles: ['relay'],
    path: '/usr/local/lib/relay-play/hand-over-ports',
    what: "the port handover (ends a device's old session when its new one of the same key is refused the port): not in the Ansible mirror",
  },
  {
    roles: ['relay'],
    path: '/etc/systemd/system/relay-play-handover.service',
    what: "the port handover's unit",
  },
  {
    roles: ['relay'],
    path: '/etc/systemd/system/multi-user.target.wants/relay-play-handover.service',
    what: "the port handover unit's enablement link",
  },
  {
    roles: ['device'],
    path: '/etc/systemd/system/relay-play-netwatch.service',
    what: "the tunnel's network watcher (restarts it at once on a network change; its script is in /usr/local/lib/relay-play): not in the Ansible mirror",
  },
  {
    roles: ['device'],
    path: '/etc/systemd/system/multi-user.target.wants/relay-play-netwatch.service',
    what: "the network watcher unit's enablement link",
  },
  {
    roles: ['relay'],
    path: '/run/relay-play',
    what: "`relay-play status`'s record of each tunnel session's host key (a runtime cache)",
  },
];

/** Whether `file` (a path in a file listing of a host of `role`) is, or is under, something only relay-play installs. */
export function relayPlayOnly(role: Role, file: string): RelayPlayOnly | undefined {
  return RELAY_PLAY_ONLY.find((o) => o.roles.includes(role) && (file === o.path || file.startsWith(`${o.path}/`)));
}

/**
 * The places where relay-play puts its files, per role: every file there is listed (type, owner:group,
 * mode, path), so an extra file, or another owner or mode of any of them, shows up. The client's are
 * under its user's home.
 */
const FILES: Record<Role, string> = {
  relay:
    'sudo find /etc/ssh/sshd_config.d /home/relay /var/lib/relay-play /usr/local/lib/relay-play /root/.relay-play /run/relay-play /run/lock/relay-play.lock',
  device:
    'sudo find /etc/relay-play /etc/ssh/sshd_config.d /usr/local/lib/relay-play /root/.relay-play /var/lib/relay-play',
  client: 'sudo find ~/.ssh /root/.relay-play',
};
const LISTED = "-printf '%y %u:%g %m %p\\n' 2>/dev/null";
const filesCommand = (role: Role) =>
  `{ ${FILES[role]} ${LISTED}; sudo find /etc/systemd/system -name 'relay*' ${LISTED}; } | sort -k4`;

/** A host's file listing (FILES) cut in two: what is compared, and what only relay-play installs. */
export function splitFiles(role: Role, listing: string): { compared: string; relayPlayOnly: string } {
  const compared: string[] = [];
  const only: string[] = [];
  for (const line of listing.split('\n').filter(Boolean)) {
    const file = line.split(' ').slice(3).join(' ');
    (relayPlayOnly(role, file) ? only : compared).push(line);
  }
  return { compared: compared.join('\n'), relayPlayOnly: only.join('\n') };
}

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
const ITEMS: Record<Role, [string, string][]> = { relay: RELAY, device: DEVICE, client: CLIENT };

/** A host's end state: what is compared, and what only relay-play installs (read, reported, never compared). */
export interface HostReading {
  compared: EndState;
  relayPlayOnly: EndState;
}

const FILES_ITEM = 'files';
export const RELAY_PLAY_ONLY_ITEM = 'installed only by relay-play';

/** The items of one host in one exec: each framed by `@@<n>` and `@@rc <exit code>` lines. */
async function readHost(lab: Lab, host: string, role: Role): Promise<HostReading> {
  const items: [string, string][] = [
    ...ITEMS[role],
    [FILES_ITEM, filesCommand(role)],
    ...(role === 'device'
      ? ([['rollback unit enabled', 'systemctl is-enabled relay-play-rollback.service']] as [string, string][])
      : []),
  ];
  const script = items.map(([, cmd], i) => `echo '@@${i}'; { ${cmd}\n} 2>&1; echo "@@rc $?"`).join('\n');
  const r = await lab.exec(host, 'bash -s', { input: script, timeoutMs: 120_000 });
  const out: EndState = {};
  if (r.code !== 0 && !r.stdout.includes('@@0')) {
    for (const [name] of items) out[`${host}: ${name}`] = `[could not read: exit ${r.code}] ${r.stderr.trim()}`;
    return { compared: out, relayPlayOnly: {} };
  }
  items.forEach(([name], i) => {
    const m = new RegExp(`^@@${i}\\n([\\s\\S]*?)@@rc (\\d+)$`, 'm').exec(r.stdout);
    out[`${host}: ${name}`] = !m ? '[no output]' : m[1].trim() + (m[2] === '0' ? '' : `\n[exit ${m[2]}]`);
  });
  const fleet = `${host}: fleet state`;
  if (out[fleet] !== undefined) out[fleet] = normalizeFleet(out[fleet]);
  // The listing: relay-play's own files apart (with the rollback unit's state), the rest compared.
  const files = splitFiles(role, out[`${host}: ${FILES_ITEM}`]);
  out[`${host}: ${FILES_ITEM}`] = files.compared;
  const only = [files.relayPlayOnly];
  const enabled = `${host}: rollback unit enabled`;
  if (out[enabled] !== undefined) {
    only.push(`relay-play-rollback.service: ${out[enabled].replace(/\n/g, ' ')}`);
    delete out[enabled];
  }
  return { compared: out, relayPlayOnly: { [`${host}: ${RELAY_PLAY_ONLY_ITEM}`]: only.filter(Boolean).join('\n') } };
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
export async function endState(lab: Lab, relay: string, devices: string[], client: string): Promise<HostReading> {
  const jobs: [string, Role][] = [
    [relay, 'relay'],
    ...devices.map((d): [string, Role] => [d, 'device']),
    [client, 'client'],
  ];
  const out: HostReading = { compared: {}, relayPlayOnly: {} };
  for (let i = 0; i < jobs.length; i += 16) {
    const parts = await Promise.all(jobs.slice(i, i + 16).map(([h, role]) => readHost(lab, h, role)));
    for (const p of parts) {
      Object.assign(out.compared, p.compared);
      Object.assign(out.relayPlayOnly, p.relayPlayOnly);
    }
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
