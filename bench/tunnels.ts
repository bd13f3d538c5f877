// `npm run bench -- --tunnels N [--sims K]`: one relay holding N device tunnels, simulated from K lab
// hosts. The relay is set up by `relay-play apply` with N devices (os: nixos, so relay-play records and
// authorizes them without logging in to them): N relay keys, each restricted on the relay exactly as a
// real device's is. Each sim host runs its share of the tunnels as systemd units rendered from the real
// relay-tunnel.service template (same ssh options, same Restart=, same random wait after a failure),
// each tunnel reaching that sim host's sshd, whose host key the inventory gives as the device's.
//
// Measured: the relay's memory per tunnel (PSS of its sshd processes, before and after), `relay-play
// status` for all of them (the first, which scans every tunnel, and the next), and after the relay
// reboots: the time from its sshd answering again to all N tunnels listening.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Handlebars from 'handlebars';
import { stringify } from 'yaml';
import type { Lab } from '../test/lab/index.js';
import { sleep, timedRun } from './lib.js';

export interface TunnelBenchOptions {
  tunnels: number;
  sims: number;
  /** bin/relay-play.js of the relay-play under test, and its root (roles/ for the unit template). */
  cli: string;
  rpRoot: string;
  log: (msg: string) => void;
  /** 'curve25519': the simulated devices' ssh skips its default post-quantum key exchange (see below) */
  deviceKex?: 'default' | 'curve25519';
}

export interface TunnelReport {
  tunnels: number;
  sims: number;
  deviceKex: string;
  applySeconds: number;
  /** relay's sshd MaxStartups as `sshd -T` reports it after the apply */
  maxStartups: string;
  firstStart: { allListeningSeconds: number };
  memory: {
    sshdProcessesBefore: number;
    sshdProcessesAfter: number;
    pssKbBefore: number;
    pssKbAfter: number;
    perTunnelKb: number;
  };
  status: { firstSeconds: number; nextSeconds: number; allUp: boolean; afterRebootSeconds?: number };
  reboot: {
    /** the relay's shutdown (power-off) */
    stopSeconds: number;
    /** from the reboot's start to the relay's sshd sending its banner again */
    sshdAnswersSeconds: number;
    /** from the sshd answering to all N tunnels listening (undefined: not all came back in time) */
    allBackSeconds?: number;
    /** tunnels listening, sampled: seconds after the sshd answered → count */
    samples: [number, number][];
    /** logins the relay's sshd dropped after the reboot ("past MaxStartups" in its journal) */
    droppedPastMaxStartups: number;
    /** restarts of all the tunnel units on the sim hosts (systemd's NRestarts), from their first start on */
    tunnelRestarts: number;
    /** Lines the tunnels' ssh logged for failed attempts after the reboot (numbers masked), with counts. */
    failedAttempts?: Record<string, number>;
    /** CPU seconds from the reboot to all back: the relay (since its boot) and the sim hosts */
    cpuSeconds: { relay: number; sims: number };
  };
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Loopback tunnel listeners on the relay among `ports`, from its own network namespace. */
function listening(lab: Lab, ports: Set<number>): number {
  const r = spawnSync('ip', ['netns', 'exec', lab.hosts.server.netns, 'ss', '-Hltn'], { encoding: 'utf8' });
  const seen = new Set<number>();
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /\s(127\.0\.0\.1|\[::1\]):(\d+)\s/.exec(line);
    if (m && ports.has(Number(m[2]))) seen.add(Number(m[2]));
  }
  return seen.size;
}

/** The relay's sshd answers with its banner (from the runner's side of the lab). */
function sshdAnswers(lab: Lab): boolean {
  const ip = lab.hosts.server.ip;
  const r = spawnSync(
    'ip',
    ['netns', 'exec', lab.bridgeNs, 'timeout', '1', 'bash', '-c', `exec 3<>/dev/tcp/${ip}/22 && head -c 4 <&3`],
    { encoding: 'utf8' },
  );
  return r.stdout === 'SSH-';
}

/** CPU seconds used by everything that runs, or ran and was reaped, in a host's namespace (utime+stime+cutime+cstime). */
function cpuSeconds(lab: Lab, host: string): number {
  const pids = (spawnSync('ip', ['netns', 'pids', lab.hosts[host].netns], { encoding: 'utf8' }).stdout ?? '')
    .split('\n')
    .filter(Boolean);
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      /* gone meanwhile */
    }
  }
  return ticks / 100;
}

/** sshd processes in the relay's namespace (the listener, every session): count and summed PSS (kB). */
function sshdMemory(lab: Lab): { processes: number; pssKb: number } {
  const pids = (spawnSync('ip', ['netns', 'pids', lab.hosts.server.netns], { encoding: 'utf8' }).stdout ?? '')
    .split('\n')
    .filter(Boolean);
  let processes = 0;
  let pssKb = 0;
  for (const pid of pids) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('sshd')) continue;
      const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (!m) continue;
      processes++;
      pssKb += Number(m[1]);
    } catch {
      /* gone meanwhile */
    }
  }
  return { processes, pssKb };
}

async function must(lab: Lab, host: string, cmd: string, input?: string, timeoutMs = 300_000): Promise<string> {
  const r = await lab.exec(host, cmd, { input, timeoutMs });
  if (r.code !== 0) throw new Error(`${host}: ${cmd.slice(0, 80)}: exit ${r.code}: ${r.stderr.slice(0, 400)}`);
  return r.stdout;
}

async function waitFor(what: string, ms: number, every: number, ok: () => boolean | Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await ok()) return (Date.now() - t0) / 1000;
    await sleep(every);
  }
  throw new Error(`${what}: not within ${ms / 1000} s`);
}

export async function tunnelBench(lab: Lab, o: TunnelBenchOptions): Promise<TunnelReport> {
  const n = o.tunnels;
  const sims = Array.from({ length: o.sims }, (_, i) => `sim${i + 1}`);
  const devs = Array.from({ length: n }, (_, i) => `dev${i + 1}`);
  const simOf = (i: number) => sims[i % sims.length];
  const dir = fs.mkdtempSync(path.join(lab.dir, 'tunnels-'));

  // The devices' relay keys (made here, as `relay-play enroll` would) and the sim hosts' host keys.
  o.log(`tunnels: ${n} relay keys`);
  const keygen = spawnSync('bash', [
    '-c',
    'for i in $(seq 1 "$1"); do ssh-keygen -q -t ed25519 -N "" -C "relay-access dev$i" -f "$2/dev$i" || exit 1; done',
    'keygen',
    String(n),
    dir,
  ]);
  if (keygen.status !== 0) throw new Error(`ssh-keygen failed: ${keygen.stderr}`);
  const hostKey: Record<string, string> = {};
  for (const s of sims) hostKey[s] = (await must(lab, s, 'cut -d" " -f1,2 /etc/ssh/ssh_host_ed25519_key.pub')).trim();

  const hosts = lab.inventoryHosts();
  const inventory = {
    all: {
      children: {
        relay: { hosts: { server: hosts.server } },
        devices: {
          hosts: Object.fromEntries(
            devs.map((d, i) => [
              d,
              {
                os: 'nixos',
                relay_public_key: fs.readFileSync(path.join(dir, `${d}.pub`), 'utf8').trim(),
                ssh_host_key: hostKey[simOf(i)],
              },
            ]),
          ),
        },
      },
    },
  };
  const inv = path.join(dir, 'inventory.yaml');
  fs.writeFileSync(inv, stringify(inventory));
  o.log(`tunnels: relay-play apply with ${n} devices`);
  const apply = await timedRun(lab, ['node', o.cli, 'apply', inv], { cwd: o.rpRoot, timeoutMs: 900_000 });
  if (apply.code !== 0) throw new Error(`apply exited ${apply.code}: ${apply.stderr.slice(-2000)}`);
  const fleet = JSON.parse(await must(lab, 'server', 'cat /var/lib/relay-play/fleet.json')) as {
    devices: Record<string, { port: number }>;
  };
  const ports = new Set(devs.map((d) => fleet.devices[d].port));
  const maxStartups = (await must(lab, 'server', 'sudo sshd -T | grep -i "^maxstartups" || true')).trim();
  const relayKey = (await must(lab, 'server', 'cut -d" " -f1,2 /etc/ssh/ssh_host_ed25519_key.pub')).trim();

  // Each sim host: the tunnel user, its devices' keys, the relay's pinned key, one unit per device.
  const template = Handlebars.compile(
    fs.readFileSync(
      path.join(o.rpRoot, 'roles', 'reverse-tunnel-service', 'templates', 'relay-tunnel.service.hbs'),
      'utf8',
    ),
    { noEscape: true },
  );
  await Promise.all(
    sims.map(async (s) => {
      const mine = devs.filter((_, i) => simOf(i) === s);
      const lines = [
        'set -e',
        // One sim host's sshd stands for hundreds of devices' own: it must take their logins (status's
        // host key scans) at once, as that many separate devices would.
        "printf 'MaxStartups 1000:30:2000\\n' > /etc/ssh/sshd_config.d/00-bench-sim.conf",
        // As on a real device (role device-sshd): where sshd has PerSourcePenalties (OpenSSH 9.8+), loopback
        // is exempt — status's host-key scans arrive through the tunnels from 127.0.0.1 and never log in.
        `if sshd -T | grep -qi '^persourcepenalties '; then printf '%s' ${q(fs.readFileSync(path.join(o.rpRoot, 'roles', 'device-sshd', 'templates', 'relay-play-loopback.conf.hbs'), 'utf8'))} > /etc/ssh/sshd_config.d/relay-play-loopback.conf; fi`,
        'systemctl reload ssh',
        'id relay-tunnel >/dev/null 2>&1 || useradd --system --shell /usr/sbin/nologin --home-dir /nonexistent --no-create-home relay-tunnel',
        'install -d -m 0755 /etc/relay-play',
        `printf '%s\\n' ${q(`relay-play-relay ${relayKey}`)} > /etc/relay-play/known_hosts`,
      ];
      for (const d of mine) {
        // With --devices-curve25519 the one change to the unit: the simulated device's ssh uses curve25519,
        // not OpenSSH's default post-quantum key exchange (sntrup761x25519), whose key generation costs the
        // client ~60 ms of CPU here. A real device pays that on its own CPU; hundreds of simulated ones take
        // it from the two CPUs the relay runs on too.
        const unit = template({
          tunnel_user: 'relay-tunnel',
          tunnel_port: fleet.devices[d].port,
          relay_ssh_port: 22,
          relay_address: lab.hosts.server.ip,
          tunnel_forwards: [],
        }).replace(
          '-i /etc/relay-play/id_relay ',
          `-i /etc/relay-play/${d} ${o.deviceKex === 'curve25519' ? '-o KexAlgorithms=curve25519-sha256 ' : ''}`,
        );
        if (!unit.includes(`-i /etc/relay-play/${d} `))
          throw new Error('the unit template no longer has "-i /etc/relay-play/id_relay": update bench/tunnels.ts');
        lines.push(
          `printf '%s' ${q(fs.readFileSync(path.join(dir, d), 'utf8'))} > /etc/relay-play/${d}`,
          `chown relay-tunnel /etc/relay-play/${d}`,
          `chmod 0600 /etc/relay-play/${d}`,
        );
        lines.push(`printf '%s' ${q(unit)} > /etc/systemd/system/relay-tunnel-${d}.service`);
      }
      lines.push('systemctl daemon-reload');
      await must(lab, s, 'sudo bash -s', lines.join('\n') + '\n');
    }),
  );

  const before = sshdMemory(lab);
  o.log(`tunnels: starting ${n} tunnels on ${sims.length} sim hosts`);
  const t0 = Date.now();
  await Promise.all(
    sims.map((s) =>
      must(
        lab,
        s,
        `sudo systemctl start --no-block ${devs
          .filter((_, i) => simOf(i) === s)
          .map((d) => `relay-tunnel-${d}.service`)
          .join(' ')}`,
      ),
    ),
  );
  await waitFor(`all ${n} tunnels listening`, 300_000, 500, () => listening(lab, ports) === n);
  const allListeningSeconds = (Date.now() - t0) / 1000;
  o.log(`tunnels: all ${n} listening ${allListeningSeconds.toFixed(1)} s after the start`);
  await sleep(5000); // let sessions settle before measuring memory
  const after = sshdMemory(lab);
  const perTunnelKb = Math.round((after.pssKb - before.pssKb) / n);
  o.log(
    `tunnels: relay sshd PSS ${before.pssKb} kB (${before.processes} processes) → ${after.pssKb} kB (${after.processes}): ${perTunnelKb} kB per tunnel`,
  );

  const status = async () => {
    const r = await timedRun(lab, ['node', o.cli, 'status', inv, '--json'], { cwd: o.rpRoot, timeoutMs: 300_000 });
    let up = 0;
    try {
      up = (JSON.parse(r.stdout) as { up: boolean }[]).filter((row) => row.up).length;
    } catch {
      /* reported below */
    }
    return { seconds: r.seconds, up, code: r.code };
  };
  const s1 = await status();
  const s2 = await status();
  o.log(
    `tunnels: status ${s1.seconds.toFixed(2)} s (first: scans every tunnel), then ${s2.seconds.toFixed(2)} s; ${s2.up} of ${n} up, exit ${s2.code}`,
  );

  // The relay reboots: its sshd comes back, then the devices' tunnels.
  o.log('tunnels: rebooting the relay');
  const simCpu0 = sims.reduce((a, h) => a + cpuSeconds(lab, h), 0);
  const r0 = Date.now();
  await lab.stop('server');
  const stopSeconds = (Date.now() - r0) / 1000;
  const started = lab.start('server');
  started.catch(() => undefined);
  await waitFor("the relay's sshd answering after the reboot", 300_000, 100, () => sshdAnswers(lab));
  const sshdAt = Date.now();
  const samples: [number, number][] = [];
  let allBackSeconds: number | undefined;
  while (Date.now() - sshdAt < 120_000) {
    const c = listening(lab, ports);
    const t = (Date.now() - sshdAt) / 1000;
    samples.push([Math.round(t * 10) / 10, c]);
    if (c === n) {
      allBackSeconds = t;
      break;
    }
    await sleep(250);
  }
  await started.catch(() => undefined);
  o.log(
    `tunnels: the relay powered off in ${stopSeconds.toFixed(1)} s; its sshd answered ${((sshdAt - r0) / 1000).toFixed(1)} s after the reboot began; ${allBackSeconds === undefined ? `only ${samples.at(-1)?.[1]} of ${n} back after 120 s` : `all ${n} back ${allBackSeconds.toFixed(1)} s later`}`,
  );
  // Where the CPU went meanwhile (the lab's hosts share the machine's CPUs): the relay since its boot, the sim hosts.
  const cpu = { relay: cpuSeconds(lab, 'server'), sims: sims.reduce((a, h) => a + cpuSeconds(lab, h), 0) - simCpu0 };
  o.log(
    `tunnels: CPU from the reboot to all back: relay ${cpu.relay.toFixed(1)} s, sim hosts ${cpu.sims.toFixed(1)} s`,
  );
  // Why it took that long: logins sshd dropped (MaxStartups), and how often the tunnels restarted.
  const drops =
    Number(
      (
        await must(lab, 'server', 'sudo journalctl -b -u ssh --no-pager -o cat | grep -c "past MaxStartups" || true')
      ).trim(),
    ) || 0;
  const restarts = (
    await Promise.all(
      sims.map((s) =>
        must(
          lab,
          s,
          `systemctl show -p NRestarts --value ${devs
            .filter((_, i) => simOf(i) === s)
            .map((d) => `relay-tunnel-${d}.service`)
            .join(' ')}`,
        ),
      ),
    )
  )
    .flatMap((out) => out.split('\n').filter(Boolean).map(Number))
    .reduce((a, b) => a + b, 0);
  o.log(
    `tunnels: after the reboot, sshd dropped ${drops} logins past MaxStartups; the tunnels restarted ${restarts} times in all (the first start included)`,
  );
  // What the tunnels' ssh said when an attempt failed since the reboot began: the tail of the curve.
  const since = new Date(r0 - 1000).toISOString().replace('T', ' ').slice(0, 19);
  const failures: Record<string, number> = {};
  for (const s of sims) {
    const out = await must(
      lab,
      s,
      `sudo journalctl --since ${q(since + ' UTC')} --no-pager -o cat -u 'relay-tunnel-*' | grep -iE 'refused|timed out|timeout|failed|denied|closed|reset|error|exceeded' | sed -E 's/[0-9]+(\\.[0-9]+){3}/ADDR/g; s/port [0-9]+/port N/g; s/[0-9]+/N/g' || true`,
    );
    for (const line of out.split('\n').filter(Boolean)) failures[line] = (failures[line] ?? 0) + 1;
  }
  const failureLines = Object.entries(failures)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8);
  if (failureLines.length)
    o.log(
      `tunnels: what failed attempts said (count, line):\n${failureLines.map(([l, c]) => `  ${c}  ${l}`).join('\n')}`,
    );
  const s3 = allBackSeconds === undefined ? undefined : await status();
  if (s3)
    o.log(`tunnels: status after the reboot ${s3.seconds.toFixed(2)} s (scans every tunnel): ${s3.up} of ${n} up`);

  return {
    tunnels: n,
    sims: sims.length,
    deviceKex: o.deviceKex ?? 'default',
    applySeconds: apply.seconds,
    maxStartups,
    firstStart: { allListeningSeconds },
    memory: {
      sshdProcessesBefore: before.processes,
      sshdProcessesAfter: after.processes,
      pssKbBefore: before.pssKb,
      pssKbAfter: after.pssKb,
      perTunnelKb,
    },
    status: {
      firstSeconds: s1.seconds,
      nextSeconds: s2.seconds,
      allUp: s2.up === n && s2.code === 0,
      afterRebootSeconds: s3?.seconds,
    },
    reboot: {
      stopSeconds,
      sshdAnswersSeconds: (sshdAt - r0) / 1000,
      allBackSeconds,
      samples,
      droppedPastMaxStartups: drops,
      tunnelRestarts: restarts,
      failedAttempts: Object.fromEntries(failureLines),
      cpuSeconds: cpu,
    },
  };
}

export function tunnelTargets(r: TunnelReport): { name: string; holds: boolean; detail: string }[] {
  return [
    {
      name: `${r.tunnels} tunnels all back ≤ 20 s after the relay's sshd answers`,
      holds: r.reboot.allBackSeconds !== undefined && r.reboot.allBackSeconds <= 20,
      detail: `${r.reboot.allBackSeconds === undefined ? `not all back after 120 s (${r.reboot.samples.at(-1)?.[1]} of ${r.tunnels})` : `${r.reboot.allBackSeconds.toFixed(1)} s`} (sshd answered ${r.reboot.sshdAnswersSeconds.toFixed(1)} s after the reboot began; MaxStartups ${r.maxStartups.replace(/^maxstartups /i, '')}, ${r.reboot.droppedPastMaxStartups} logins dropped past it; CPU meanwhile: relay ${r.reboot.cpuSeconds.relay.toFixed(1)} s, sim hosts ${r.reboot.cpuSeconds.sims.toFixed(1)} s; devices' key exchange: ${r.deviceKex === 'default' ? "OpenSSH's default (post-quantum)" : r.deviceKex})`,
    },
    {
      name: `status answers for ${r.tunnels} devices in ≤ 2 s`,
      holds: r.status.allUp && r.status.nextSeconds <= 2,
      detail: `${r.status.nextSeconds.toFixed(2)} s${r.status.allUp ? ', all up' : ', NOT all up'} (the first status, which scans every tunnel: ${r.status.firstSeconds.toFixed(2)} s)`,
    },
    {
      name: 'relay memory per tunnel (reported)',
      holds: true,
      detail: `${(r.memory.perTunnelKb / 1024).toFixed(2)} MB PSS (sshd, ${r.memory.sshdProcessesAfter - r.memory.sshdProcessesBefore} processes for ${r.tunnels} tunnels)`,
    },
  ];
}
