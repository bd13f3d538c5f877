// Shared by the fault, security and bad-input tests: a relay inventory on lab hosts, the client's own
// login key, `ssh DEVICE` from the client, and the managed files of a fleet read back and checked.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { ExecResult, Lab } from '../lab/index.js';
import { CLI, REPO, show } from './util.js';

export interface FleetLayout {
  relay?: string;
  /** Several relays, in order (the first is each device's relay-tunnel.service); instead of `relay`. */
  relays?: string[];
  devices: string[];
  clients?: string[];
  /** extra host vars by host name */
  vars?: Record<string, Record<string, unknown>>;
}

/** An Ansible YAML inventory object for lab hosts: the relay (or relays), devices, clients. */
export function relayInventory(lab: Lab, layout: FleetLayout): Record<string, unknown> {
  const hosts = lab.inventoryHosts();
  const pick = (names: string[]) =>
    Object.fromEntries(names.map((n) => [n, { ...hosts[n], ...(layout.vars?.[n] ?? {}) }]));
  return {
    all: {
      children: {
        relay: { hosts: pick(layout.relays ?? [layout.relay ?? 'server']) },
        devices: { hosts: pick(layout.devices) },
        clients: { hosts: pick(layout.clients ?? ['client']) },
      },
    },
  };
}

/** The person on the client logs in to devices with their own key (relay-play only manages the way there). */
export async function setupClientLogin(lab: Lab, devices: string[], client = 'client'): Promise<void> {
  const key = await lab.exec(
    client,
    "test -f ~/.ssh/id_ed25519 || ssh-keygen -q -t ed25519 -N '' -f ~/.ssh/id_ed25519; cat ~/.ssh/id_ed25519.pub",
  );
  assert.equal(key.code, 0, show(key));
  await Promise.all(
    devices.map(async (d) => {
      const r = await lab.exec(d, 'cat >> ~/.ssh/authorized_keys', { input: key.stdout });
      assert.equal(r.code, 0, show(r));
    }),
  );
}

/** `ssh DEVICE hostname` run by admin on the client, through the relay, never prompting. */
export function sshFromClient(lab: Lab, device: string, timeoutMs = 8_000, client = 'client'): Promise<ExecResult> {
  return lab.exec(client, `ssh -o BatchMode=yes -o ConnectTimeout=5 ${device} hostname`, { timeoutMs });
}

export async function reachable(lab: Lab, device: string, timeoutMs = 8_000): Promise<boolean> {
  return (await sshFromClient(lab, device, timeoutMs)).stdout.trim() === device;
}

/**
 * Poll until every device answers `ssh DEVICE hostname` from the client; the seconds that took.
 * Gives up (throws, with the tunnel and sshd logs) after `giveUpMs`: the caller asserts its bound
 * on the returned number, so a slow recovery still reports how slow it was. A new attempt every
 * `everyMs` (a second; recoveries of a few seconds are timed finer).
 */
export async function waitReachable(
  lab: Lab,
  devices: string[],
  giveUpMs: number,
  what: string,
  everyMs = 1_000,
): Promise<number> {
  const start = Date.now();
  // A new attempt every everyMs, without waiting for earlier ones: an attempt that went to a stale
  // listener hangs until its timeout, and must not hide a tunnel that came back meanwhile.
  const one = (d: string) =>
    new Promise<number>((resolve, reject) => {
      let done = false;
      let inFlight = 0;
      const tick = () => {
        if (done) return;
        if (Date.now() - start > giveUpMs) {
          done = true;
          clearInterval(timer);
          reject(new Error(d));
          return;
        }
        if (inFlight >= 8) return;
        inFlight++;
        void reachable(lab, d, 8_000).then((ok) => {
          inFlight--;
          if (ok && !done) {
            done = true;
            clearInterval(timer);
            resolve(Date.now());
          }
        });
      };
      const timer = setInterval(tick, everyMs);
      tick();
    });
  const results = await Promise.allSettled(devices.map(one));
  const failed = devices.filter((_, i) => results[i].status === 'rejected');
  if (failed.length) {
    const diag = await diagnose(lab, failed);
    throw new Error(
      `${what}: ${failed.join(', ')} not reachable through the relay after ${(giveUpMs / 1000).toFixed(0)} s\n${diag}`,
    );
  }
  const last = Math.max(...results.map((r) => (r as PromiseFulfilledResult<number>).value));
  return (last - start) / 1000;
}

/** What the tunnel units and the relay's sshd said lately: for a failed bound. */
export async function diagnose(lab: Lab, devices: string[], relay = 'server'): Promise<string> {
  const parts: string[] = [];
  for (const d of devices) {
    const j = await lab.exec(
      d,
      'sudo journalctl -u relay-tunnel -u relay-play-netwatch --no-pager -n 30 -o short-precise',
      {
        timeoutMs: 10_000,
      },
    );
    parts.push(`--- ${d}: journalctl -u relay-tunnel -u relay-play-netwatch\n${j.stdout}${j.stderr}`);
  }
  const s = await lab.exec(
    relay,
    "sudo journalctl -u ssh --no-pager -n 40 -o short-precise; sudo journalctl -t relay-play --no-pager -n 10 -o short-precise; sudo ss -ltnp | grep -v ':22 '",
    { timeoutMs: 10_000 },
  );
  parts.push(`--- ${relay}: journalctl -u ssh, the port handover; listeners\n${s.stdout}${s.stderr}`);
  return parts.join('\n');
}

export interface ManagedFiles {
  fleet: {
    devices: Record<string, { port: number; relay_key?: string; host_key?: string }>;
    clients: Record<string, { jump_key?: string }>;
  };
  authorizedKeys: string;
  sshConfig: string;
  knownHosts: string;
}

export async function readManaged(lab: Lab, relay = 'server', client = 'client'): Promise<ManagedFiles> {
  const r = await lab.exec(
    relay,
    'sudo cat /var/lib/relay-play/fleet.json; echo ---split---; sudo cat /home/relay/.ssh/authorized_keys',
  );
  assert.equal(r.code, 0, show(r));
  const [fleetText, authorizedKeys] = r.stdout.split('---split---\n');
  const c = await lab.exec(client, 'cat ~/.ssh/config; echo ---split---; cat ~/.ssh/known_hosts.relay-play');
  assert.equal(c.code, 0, show(c));
  const [sshConfig, knownHosts] = c.stdout.split('---split---\n');
  return { fleet: JSON.parse(fleetText), authorizedKeys, sshConfig, knownHosts };
}

const count = <T>(list: T[], x: T) => list.filter((y) => y === x).length;

/**
 * The relay's fleet.json, authorized_keys, the client's ssh config and pinned known_hosts: exactly
 * one entry per device and client, no duplicates, and every file agrees on each device's port.
 * `relays`: the inventory's relays (the client pins each as relay-play-<relay>, even a lone one).
 */
export function assertFleetIntact(
  m: ManagedFiles,
  devices: string[],
  clients: string[] = ['client'],
  relays: string[] = ['server'],
): Record<string, number> {
  const ctx = `\n--- fleet.json\n${JSON.stringify(m.fleet, null, 2)}\n--- authorized_keys\n${m.authorizedKeys}\n--- ssh config\n${m.sshConfig}\n--- known_hosts.relay-play\n${m.knownHosts}`;
  // fleet.json: exactly these devices and clients, distinct ports.
  assert.deepEqual(Object.keys(m.fleet.devices).sort(), [...devices].sort(), `fleet.json devices${ctx}`);
  assert.deepEqual(Object.keys(m.fleet.clients).sort(), [...clients].sort(), `fleet.json clients${ctx}`);
  const ports = Object.fromEntries(devices.map((d) => [d, m.fleet.devices[d].port]));
  assert.equal(new Set(Object.values(ports)).size, devices.length, `fleet.json ports distinct${ctx}`);
  for (const d of devices)
    assert.ok(m.fleet.devices[d].relay_key && m.fleet.devices[d].host_key, `fleet.json keys of ${d}${ctx}`);

  // authorized_keys: one line per device (its own permitlisten), one per client, no duplicate key.
  const lines = m.authorizedKeys.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  assert.equal(lines.length, devices.length + clients.length, `authorized_keys line count${ctx}`);
  const keyBlobs = lines.map((l) => / (ssh-ed25519 [A-Za-z0-9+/=]+) /.exec(l)?.[1]);
  assert.equal(new Set(keyBlobs).size, lines.length, `authorized_keys: no duplicate key${ctx}`);
  for (const d of devices) {
    const mine = lines.filter((l) => l.endsWith(` relay-play device ${d}`));
    assert.equal(mine.length, 1, `authorized_keys: one line for ${d}${ctx}`);
    assert.match(mine[0], new RegExp(`permitlisten="localhost:${ports[d]}"`), `authorized_keys port of ${d}${ctx}`);
    assert.ok(mine[0].includes(m.fleet.devices[d].relay_key!), `authorized_keys key of ${d}${ctx}`);
  }
  for (const c of clients)
    assert.equal(
      lines.filter((l) => l.endsWith(` relay-play client ${c}`)).length,
      1,
      `authorized_keys: one line for client ${c}${ctx}`,
    );

  // Client ssh config: one managed block, one Host entry per device with the recorded port.
  const cfg = m.sshConfig;
  assert.equal(count(cfg.split('\n'), '# BEGIN relay-play managed block'), 1, `one BEGIN marker${ctx}`);
  assert.equal(count(cfg.split('\n'), '# END relay-play managed block'), 1, `one END marker${ctx}`);
  const hostLines = cfg.split('\n').filter((l) => /^Host /.test(l));
  assert.equal(count(hostLines, 'Host relay'), 1, `one "Host relay"${ctx}`);
  for (const d of devices) {
    assert.equal(count(hostLines, `Host ${d}`), 1, `one "Host ${d}"${ctx}`);
    assert.match(
      cfg,
      new RegExp(`^Host ${d}\\n\\s+HostName localhost\\n\\s+Port ${ports[d]}\\n`, 'm'),
      `port of ${d} in ssh config${ctx}`,
    );
  }

  // Pinned known_hosts: the first relay as relay-play-relay, each relay by name, each device, exactly once.
  const khNames = m.knownHosts
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[0]);
  assert.deepEqual(
    khNames.sort(),
    ['relay-play-relay', ...relays.map((r) => `relay-play-${r}`), ...devices].sort(),
    `known_hosts.relay-play entries${ctx}`,
  );
  return ports;
}

/** Spawn the CLI in the lab's bridge namespace as its own process group, so a test can SIGKILL it midway. */
export function spawnRelayPlay(
  lab: Lab,
  args: string[],
): { child: ChildProcess; done: Promise<ExecResult>; output: () => string } {
  const env = { ...process.env, HOME: lab.home, LC_ALL: 'C', PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };
  const child = spawn('ip', ['netns', 'exec', lab.bridgeNs, 'node', CLI, ...args], {
    cwd: REPO,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const done = new Promise<ExecResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 1), stdout, stderr }));
  });
  return { child, done, output: () => stdout + stderr };
}

/** SIGKILL the whole process group of a spawnRelayPlay child (ip netns exec and node). */
export function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

export const seconds = (ms: number) => (ms / 1000).toFixed(1);

/**
 * Try a relay key from the device itself, as its tunnel would log in: 255 = refused by the relay,
 * 1 = accepted (the relay's ForceCommand /bin/false ends the session). keepKey copies what it needs.
 */
export function tryKey(lab: Lab, device: string, keyFile: string, relay = 'server'): Promise<ExecResult> {
  return lab.exec(
    device,
    `sudo ssh -F none -T -i ${keyFile} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/root/relay-known-hosts -o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=relay-play-relay -o ConnectTimeout=5 relay@${lab.hosts[relay].ip} true`,
    { timeoutMs: 20_000 },
  );
}

/** A root-only copy of the device's current relay key (and of its pinned relay host key, for tryKey). */
export async function keepKey(lab: Lab, device: string): Promise<string> {
  const r = await lab.exec(
    device,
    'f=$(sudo mktemp /root/old-relay-key.XXXXXX) && sudo cp /etc/relay-play/id_relay "$f" && sudo chmod 0600 "$f" && sudo cp /etc/relay-play/known_hosts /root/relay-known-hosts && echo "$f"',
  );
  assert.equal(r.code, 0, show(r));
  return r.stdout.trim();
}
