// Same-lab A/B of two relay-play commits: is B slower than A?
//
//   npm run build && node dist/bench/ab.js --a REV --b REV [--devices 8] [--runs 7] [--firsts 2]
//
// Both commits are built in temp dirs (bench/lib.ts: buildSnapshot). First applies: `--firsts` fresh
// labs per commit, in the order A, B, B, A, … (a lab's boot and the machine's load drift: alternating
// spreads them). No-change runs: on one lab that A set up, A and B alternate `--runs` times each, so
// both meet the same hosts under the same load; each run must change nothing (the two commits must
// converge to the same state), and sudo calls per run on the relay, rpi1 and the client are counted.
// Prints the medians and writes bench/results/<date>T<hhmm>-ab-<A>-<B>.json.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startLab, type Lab } from '../test/lab/index.js';
import { buildSnapshot, median, parseRecap, timedRun } from './lib.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const log = (msg: string) => process.stderr.write(`[ab ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

interface Options {
  a: string;
  b: string;
  devices: number;
  runs: number;
  firsts: number;
}

function options(argv: string[]): Options {
  const o: Options = { a: '', b: 'HEAD', devices: 8, runs: 7, firsts: 2 };
  for (let i = 0; i < argv.length; i++) {
    const val = () => argv[++i] ?? '';
    if (argv[i] === '--a') o.a = val();
    else if (argv[i] === '--b') o.b = val();
    else if (argv[i] === '--devices') o.devices = Number(val());
    else if (argv[i] === '--runs') o.runs = Number(val());
    else if (argv[i] === '--firsts') o.firsts = Number(val());
    else throw new Error(`unknown option ${argv[i]}`);
  }
  if (!o.a) throw new Error('usage: node dist/bench/ab.js --a REV [--b REV] [--devices N] [--runs N] [--firsts N]');
  return o;
}

const names = (n: number) => ['server', ...Array.from({ length: n }, (_, i) => `rpi${i + 1}`), 'client'];

function writeInventory(lab: Lab, n: number): string {
  const hosts = lab.inventoryHosts();
  const pick = (xs: string[]) => Object.fromEntries(xs.map((x) => [x, hosts[x]]));
  const devices = names(n).slice(1, -1);
  const inv = {
    all: {
      children: {
        relay: { hosts: pick(['server']) },
        devices: { hosts: pick(devices) },
        clients: { hosts: pick(['client']) },
      },
    },
  };
  const file = path.join(lab.dir, 'ab-inventory.yaml');
  fs.writeFileSync(file, stringify(inv));
  return file;
}

/** One `apply`: its wall time, and whether it changed anything on each host. */
async function apply(lab: Lab, root: string, inv: string, forks: number) {
  const cli = path.join(root, 'bin', 'relay-play.js');
  const r = await timedRun(lab, ['node', cli, 'apply', inv, '--forks', String(forks)], {
    cwd: root,
    timeoutMs: 600_000,
  });
  if (r.code !== 0) throw new Error(`apply with ${root} exited ${r.code}:\n${r.stdout.slice(-2000)}${r.stderr}`);
  const changed = Object.values(parseRecap(r.stdout)).reduce((n, s) => n + s.changed, 0);
  return { seconds: r.seconds, changed };
}

async function sudoCount(lab: Lab, host: string): Promise<number> {
  const r = await lab.exec(host, `sudo -n journalctl -q --no-pager _COMM=sudo | grep -c COMMAND= || true`);
  return Number(r.stdout.trim());
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const a = buildSnapshot(REPO, o.a, log);
  const b = buildSnapshot(REPO, o.b, log);
  const hosts = names(o.devices);
  const withLab = async <T>(fn: (lab: Lab, inv: string) => Promise<T>): Promise<T> => {
    const lab = await startLab(hosts, { bootTimeoutMs: Math.max(180_000, hosts.length * 6_000) });
    try {
      return await fn(lab, writeInventory(lab, o.devices));
    } finally {
      await lab.teardown();
    }
  };

  const firsts: { a: number[]; b: number[] } = { a: [], b: [] };
  for (let i = 0; i < o.firsts; i++) {
    for (const which of i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
      const s = await withLab((lab, inv) => apply(lab, (which === 'a' ? a : b).root, inv, hosts.length));
      log(`first apply ${which.toUpperCase()}: ${s.seconds.toFixed(2)} s`);
      firsts[which].push(s.seconds);
    }
  }

  const noChange = await withLab(async (lab, inv) => {
    await apply(lab, a.root, inv, hosts.length);
    const out = { a: [] as number[], b: [] as number[], sudo: {} as Record<string, Record<string, number>> };
    for (const which of ['a', 'b'] as const) {
      // Sudo calls of this commit's no-change runs, per host, without the count's own sudo.
      const before = await Promise.all(['server', 'rpi1', 'client'].map((h) => sudoCount(lab, h)));
      const root = (which === 'a' ? a : b).root;
      const r = await apply(lab, root, inv, hosts.length);
      if (r.changed) throw new Error(`a no-change run of ${which.toUpperCase()} changed ${r.changed} things`);
      const after = await Promise.all(['server', 'rpi1', 'client'].map((h) => sudoCount(lab, h)));
      out.sudo[which] = Object.fromEntries(['server', 'rpi1', 'client'].map((h, i) => [h, after[i] - before[i] - 1]));
    }
    for (let i = 0; i < o.runs; i++) {
      for (const which of i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
        const r = await apply(lab, (which === 'a' ? a : b).root, inv, hosts.length);
        if (r.changed) throw new Error(`a no-change run of ${which.toUpperCase()} changed ${r.changed} things`);
        out[which].push(r.seconds);
      }
    }
    return out;
  });

  const result = {
    date: new Date().toISOString(),
    devices: o.devices,
    a: { rev: o.a, commit: a.commit },
    b: { rev: o.b, commit: b.commit },
    firstApply: { a: firsts.a, b: firsts.b, medianA: median(firsts.a), medianB: median(firsts.b) },
    noChange: { a: noChange.a, b: noChange.b, medianA: median(noChange.a), medianB: median(noChange.b) },
    sudoPerNoChangeRun: noChange.sudo,
  };
  const stamp = result.date.slice(0, 13) + result.date.slice(14, 16);
  const file = path.join(REPO, 'bench', 'results', `${stamp}-ab-${a.commit.slice(0, 7)}-${b.commit.slice(0, 7)}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  const f = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  process.stdout.write(
    [
      `A ${o.a} (${a.commit.slice(0, 7)}) vs B ${o.b} (${b.commit.slice(0, 7)}), ${o.devices} devices`,
      `first apply: A median ${median(firsts.a).toFixed(2)} s (${f(firsts.a)}), B ${median(firsts.b).toFixed(2)} s (${f(firsts.b)})`,
      `no-change:   A median ${median(noChange.a).toFixed(2)} s (${f(noChange.a)}), B ${median(noChange.b).toFixed(2)} s (${f(noChange.b)})`,
      `sudo per no-change run: A ${JSON.stringify(noChange.sudo.a)}, B ${JSON.stringify(noChange.sudo.b)}`,
      `results: ${path.relative(REPO, file)}`,
    ].join('\n') + '\n',
  );
}

main().catch((e) => {
  process.stderr.write(`ab: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
