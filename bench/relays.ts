// --relays K: what a second (third…) relay costs on a no-change apply. One lab: relays ra, rb…, devices
// rpi1..N, a client. The fleet is applied with one relay and re-run (no change) R times, then with K
// relays (every device keeps a tunnel to each) and re-run R times; the medians are compared. Each
// no-change run must exit 0 and change nothing, and `ssh rpi1 hostname` must work from the client.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { stringify } from 'yaml';
import type { Lab } from '../test/lab/index.js';
import { breakdown, median, parseRecap, timedRun, type Breakdown, type Timed } from './lib.js';

export interface RelaysBenchOptions {
  relays: number;
  devices: number;
  repeat: number;
  cli: string;
  rpRoot: string;
  log: (msg: string) => void;
}

export interface RelaysReport {
  relays: string[];
  devices: number;
  /** seconds of the first apply with one relay, and of the apply that added the others */
  firstApplySeconds: number;
  addRelaysSeconds: number;
  /** no-change runs: seconds each, with one relay and with every relay */
  noChangeOne: number[];
  noChangeAll: number[];
  ratio: number;
  /** where the slowest no-change run of each went, play by play */
  breakdownOne?: Breakdown;
  breakdownAll?: Breakdown;
  problems: string[];
}

export const relayNames = (k: number) => Array.from({ length: k }, (_, i) => `r${String.fromCharCode(97 + i)}`);
export const benchDevices = (n: number) => Array.from({ length: n }, (_, i) => `rpi${i + 1}`);

function inventory(lab: Lab, relays: string[], devices: string[]) {
  const hosts = lab.inventoryHosts();
  const pick = (names: string[]) => Object.fromEntries(names.map((n) => [n, hosts[n]]));
  return {
    all: {
      children: {
        relay: { hosts: pick(relays) },
        devices: { hosts: pick(devices) },
        clients: { hosts: pick(['client']) },
      },
    },
  };
}

/** What is wrong with a run that should have changed nothing (or, `converge` false, just succeeded). */
function problemsOf(label: string, r: Timed, converge: boolean): string[] {
  const out: string[] = [];
  if (r.code !== 0) out.push(`${label}: exit ${r.code}: ${r.stderr.slice(-600)}`);
  if (converge)
    for (const [h, s] of Object.entries(parseRecap(r.stdout)))
      if (s.changed) out.push(`${label}: ${h} changed=${s.changed} (expected 0)`);
  return out;
}

export async function relaysBench(lab: Lab, o: RelaysBenchOptions): Promise<RelaysReport> {
  const relays = relayNames(o.relays);
  const devices = benchDevices(o.devices);
  const dir = fs.mkdtempSync(path.join(lab.dir, 'bench-relays-'));
  const one = path.join(dir, 'one-relay.yaml');
  const all = path.join(dir, 'all-relays.yaml');
  fs.writeFileSync(one, stringify(inventory(lab, relays.slice(0, 1), devices)));
  fs.writeFileSync(all, stringify(inventory(lab, relays, devices)));
  const forks = String(relays.length + devices.length + 1);
  const problems: string[] = [];
  const apply = async (inv: string, label: string, converge: boolean): Promise<Timed> => {
    const r = await timedRun(lab, ['node', o.cli, 'apply', inv, '--forks', forks], {
      cwd: o.rpRoot,
      timeoutMs: 1_800_000,
    });
    o.log(`relays: ${label}: ${r.seconds.toFixed(2)} s, exit ${r.code}`);
    problems.push(...problemsOf(label, r, converge));
    return r;
  };
  /** The no-change runs' seconds, and the breakdown of the slowest. */
  const noChange = async (inv: string, label: string): Promise<{ seconds: number[]; slowest: Breakdown }> => {
    const runs: Timed[] = [];
    for (let i = 1; i <= o.repeat; i++) runs.push(await apply(inv, `${label} no-change ${i}`, true));
    const slowest = runs.reduce((a, b) => (b.seconds > a.seconds ? b : a));
    return { seconds: runs.map((r) => r.seconds), slowest: breakdown(slowest, 'relay-play') };
  };
  const reachable = async (label: string) => {
    const r = await lab.exec('client', 'ssh -o BatchMode=yes -o ConnectTimeout=10 rpi1 hostname', {
      timeoutMs: 30_000,
    });
    if (r.stdout.trim() !== 'rpi1') problems.push(`${label}: ssh rpi1 from the client: ${r.stderr.trim()}`);
  };

  // The person on the client logs in to devices with their own key (as in test/relay.test.ts).
  const key = await lab.exec(
    'client',
    "ssh-keygen -q -t ed25519 -N '' -f ~/.ssh/id_ed25519 && cat ~/.ssh/id_ed25519.pub",
  );
  if (key.code !== 0) throw new Error(`client key: ${key.stderr}`);
  for (const d of devices) {
    const r = await lab.exec(d, 'cat >> ~/.ssh/authorized_keys', { input: key.stdout });
    if (r.code !== 0) throw new Error(`authorize the client's key on ${d}: ${r.stderr}`);
  }

  const firstApplySeconds = (await apply(one, 'one relay: first apply', false)).seconds;
  await reachable('one relay');
  const withOne = await noChange(one, 'one relay');
  const adding = `${relays.length} relays: apply adding ${relays.slice(1).join(', ')}`;
  const addRelaysSeconds = (await apply(all, adding, false)).seconds;
  await reachable(`${relays.length} relays`);
  const withAll = await noChange(all, `${relays.length} relays`);
  return {
    relays,
    devices: devices.length,
    firstApplySeconds,
    addRelaysSeconds,
    noChangeOne: withOne.seconds,
    noChangeAll: withAll.seconds,
    ratio: median(withAll.seconds) / median(withOne.seconds),
    breakdownOne: withOne.slowest,
    breakdownAll: withAll.slowest,
    problems,
  };
}

/** `start-up 0.4 s, relay 0.6 s, …`: a run's plays and their seconds. */
export function playsLine(b: Breakdown): string {
  return [`start-up ${b.startup.toFixed(2)} s`, ...b.plays.map((p) => `${p.name} ${p.seconds.toFixed(2)} s`)].join(
    ', ',
  );
}

/** The aim: K relays cost ≤ 1.3× one relay on a no-change run. */
export function relaysTargets(r: RelaysReport): { name: string; holds: boolean; detail: string }[] {
  const a = median(r.noChangeOne);
  const b = median(r.noChangeAll);
  return [
    {
      name: `no-change apply with ${r.relays.length} relays ≤ 1.3× one relay`,
      holds: r.ratio <= 1.3,
      detail: `${b.toFixed(2)} s vs ${a.toFixed(2)} s (×${r.ratio.toFixed(2)}), medians of ${r.noChangeOne.length}`,
    },
  ];
}
