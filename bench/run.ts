// relay-play vs ansible-playbook on the same lab fleet (1 relay, N devices, 1 client).
//
//   npm run bench -- [--devices 8|32|64] [--repeat 3] [--tools relay-play,ansible,ansible-pipelining] [--no-profile] [--worktree | --commit REV]
//
// For each tool, on a freshly booted lab (N+1 devices booted, the inventory first lists N):
//   first apply → no-change re-run (×repeat, median) → add-one-device re-run (inventory N+1).
// Tools: relay-play (`apply`, --forks = host count), ansible-playbook with bench/ansible/site.yml and stock
// settings (ANSIBLE_FORKS = host count, ANSIBLE_HOST_KEY_CHECKING=False), and the same with ANSIBLE_PIPELINING=1.
// The floor is one `ssh host sudo -n true` to every host of the inventory, all at once (OpenSSH).
// Each run must exit 0 and converge (re-run changes nothing), `ssh rpi1 hostname` must work from the
// client through the relay, and every tool must leave the same end state on every host
// (bench/end-state.ts); otherwise the comparison is invalid: the bench lists what went wrong or
// differed, prints and saves no figures or ratios (only a record in bench/results/logs/), and exits 1.
// relay-play under test: the committed HEAD (or --commit REV), exported (git archive) to $TMPDIR/relay-play-bench-<sha> and
// built there, so other people's uncommitted edits in the checkout never leak into the numbers; with
// --worktree, this checkout's own dist/ instead (build it first).
// Results (valid runs only): a table on stdout, JSON in bench/results/<date>T<hhmm>-<N>.json. Needs root and the lab's packages
// (see test/lab/index.ts); installs ansible-core and time with apt-get when missing, and says so.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { labAvailable, RELEASES, startLab, type Lab, type Release } from '../test/lab/index.js';
import { endState } from './end-state.js';
import {
  baseline,
  compareEndStates,
  notCompared,
  okMedian,
  reportProblems,
  TOOL_LABEL,
  TOOLS,
  type PhaseResult,
  type RelayPlayUnderTest,
  type Report,
  type RunRecord,
  type Tool,
} from './report.js';
import { benchDevices, playsLine, relayNames, relaysBench, relaysTargets, type RelaysReport } from './relays.js';
import { tunnelBench, tunnelTargets, type TunnelReport } from './tunnels.js';
import {
  aptInstall,
  breakdown,
  parseVia,
  busyBetween,
  cpuTimes,
  waitQuiet,
  have,
  machine,
  median,
  parseRecap,
  sleep,
  summarizeProfile,
  buildSnapshot,
  gitIn,
  timedRun,
  type HostRecap,
  type Timed,
} from './lib.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
/** bin/relay-play.js of the relay-play under test (a snapshot of HEAD unless --worktree) and its root */
let CLI = path.join(REPO, 'bin', 'relay-play.js');
let RP_ROOT = REPO;
const PLAYBOOK = path.join(REPO, 'bench', 'ansible', 'site.yml');
const RESULTS = path.join(REPO, 'bench', 'results');
/** timestamped output of the last runs (not committed: bench/.gitignore) */
const LOGS = path.join(RESULTS, 'logs');

interface Options {
  devices: number;
  repeat: number;
  tools: Tool[];
  profile: boolean;
  worktree: boolean;
  commit: string;
  tunnels?: number;
  sims: number;
  deviceKex: 'default' | 'curve25519';
  release?: Release;
  relays?: number;
}

function usage(msg?: string): never {
  if (msg) process.stderr.write(`${msg}\n`);
  process.stderr.write(
    'usage: node dist/bench/run.js [--devices N] [--repeat R] [--tools relay-play,ansible,ansible-pipelining] [--no-profile] [--worktree | --commit REV] | --tunnels N [--sims K] [--devices-curve25519] [--release bookworm|trixie] | --relays K [--devices N] [--repeat R]\n',
  );
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    devices: 8,
    repeat: 3,
    tools: [...TOOLS],
    profile: true,
    worktree: false,
    commit: 'HEAD',
    sims: 4,
    deviceKex: 'default',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--devices') o.devices = Number(val());
    else if (a === '--repeat') o.repeat = Number(val());
    else if (a === '--tools') o.tools = val().split(',') as Tool[];
    else if (a === '--no-profile') o.profile = false;
    else if (a === '--worktree') o.worktree = true;
    else if (a === '--commit') o.commit = val();
    else if (a === '--tunnels') o.tunnels = Number(val());
    else if (a === '--sims') o.sims = Number(val());
    else if (a === '--devices-curve25519') o.deviceKex = 'curve25519';
    else if (a === '--release') o.release = val() as Release;
    else if (a === '--relays') o.relays = Number(val());
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.devices) || o.devices < 1 || o.devices > 200) usage('--devices: 1 to 200');
  if (!Number.isInteger(o.repeat) || o.repeat < 1) usage('--repeat: a whole number ≥ 1');
  for (const t of o.tools) if (!TOOLS.includes(t)) usage(`--tools: unknown tool ${t}`);
  if (o.tunnels !== undefined && (!Number.isInteger(o.tunnels) || o.tunnels < 1 || o.tunnels > 2000))
    usage('--tunnels: 1 to 2000');
  if (!Number.isInteger(o.sims) || o.sims < 1 || o.sims > 16) usage('--sims: 1 to 16');
  if (o.release !== undefined && !RELEASES.includes(o.release)) usage(`--release: one of ${RELEASES.join(', ')}`);
  if (o.release !== undefined && o.tunnels === undefined) usage('--release goes with --tunnels');
  if (o.relays !== undefined && (!Number.isInteger(o.relays) || o.relays < 2 || o.relays > 8))
    usage('--relays: 2 to 8');
  if (o.relays !== undefined && o.tunnels !== undefined) usage('--relays and --tunnels are separate benches');
  return o;
}

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const f2 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(2));

const deviceNames = (n: number) => Array.from({ length: n }, (_, i) => `rpi${i + 1}`);

/** The inventory of relay.test.ts's shape: relay "server", devices rpi1..rpiN, client "client". */
function inventory(lab: Lab, devices: string[], extraVars: Record<string, unknown> = {}) {
  const hosts = lab.inventoryHosts();
  const pick = (names: string[]) => Object.fromEntries(names.map((n) => [n, hosts[n]]));
  return {
    all: {
      ...(Object.keys(extraVars).length ? { vars: extraVars } : {}),
      children: {
        relay: { hosts: pick(['server']) },
        devices: { hosts: pick(devices) },
        clients: { hosts: pick(['client']) },
      },
    },
  };
}

function checkRun(
  label: string,
  r: Timed,
  expectChanged: (host: string) => boolean | undefined,
  hosts: string[],
): RunRecord {
  const recap = parseRecap(r.stdout);
  const problems: string[] = [];
  if (r.code !== 0) problems.push(`${label}: exit ${r.code}`);
  for (const h of hosts) {
    const s: HostRecap | undefined = recap[h];
    if (!s) {
      problems.push(`${label}: ${h} missing from PLAY RECAP`);
      continue;
    }
    if (s.failed || s.unreachable) problems.push(`${label}: ${h} failed=${s.failed} unreachable=${s.unreachable}`);
    const want = expectChanged(h);
    if (want === true && s.changed === 0) problems.push(`${label}: ${h} changed nothing (expected changes)`);
    if (want === false && s.changed !== 0)
      problems.push(`${label}: ${h} changed=${s.changed} (expected 0: not converged)`);
  }
  return {
    seconds: r.seconds,
    code: r.code,
    ok: problems.length === 0,
    problems,
    changed: Object.fromEntries(Object.entries(recap).map(([h, s]) => [h, s.changed])),
    peakRssMB: r.maxRssKb === undefined ? undefined : Math.round((r.maxRssKb / 1024) * 10) / 10,
    cpuSeconds: r.cpuSeconds,
    breakdown: breakdown(r, 'relay-play'),
  };
}

/** `ssh DEVICE hostname` as admin on the client, through the relay, until it answers (tunnels take a moment). */
async function reachable(lab: Lab, device: string, ms = 60_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const r = await lab.exec('client', `ssh -o BatchMode=yes -o ConnectTimeout=5 ${device} hostname`, {
      timeoutMs: 20_000,
    });
    if (r.stdout.trim() === device) return true;
    await sleep(500);
  }
  return false;
}

async function floor(lab: Lab, hosts: string[]): Promise<number> {
  const ips = hosts.map((h) => lab.hosts[h].ip);
  const ssh = [
    'ssh',
    '-F',
    '/dev/null',
    '-i',
    lab.adminKey,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${lab.home}/.ssh/known_hosts`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'ControlMaster=no',
    '-o',
    'LogLevel=ERROR',
    '-T',
  ].join(' ');
  const script = `fail=0; for ip in "$@"; do ${ssh} "${lab.adminUser}@$ip" sudo -n true & done
for j in $(jobs -p); do wait "$j" || fail=1; done; exit $fail`;
  const r = await timedRun(lab, ['bash', '-c', script, 'floor', ...ips], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`floor: parallel ssh failed (exit ${r.code}): ${r.stderr}`);
  return r.seconds;
}

async function phase(tool: Tool, o: Options): Promise<PhaseResult> {
  const n = o.devices;
  const devices = deviceNames(n + 1);
  const newDevice = devices[n];
  const names = ['server', ...devices, 'client'];
  const hostsN = ['server', ...devices.slice(0, n), 'client'];
  const hostsN1 = ['server', ...devices, 'client'];
  log(`${TOOL_LABEL[tool]}: booting a fresh lab of ${names.length} hosts (relay, ${n}+1 devices, client)`);
  const t0 = Date.now();
  let lab: Lab | undefined;
  for (let attempt = 1; !lab; attempt++) {
    try {
      lab = await startLab(names, { bootTimeoutMs: Math.max(180_000, names.length * 6_000) });
    } catch (e) {
      // A lab boot that fails is retried once (the lab tears itself down); timings start after boot.
      if (attempt >= 2) throw e;
      log(`${TOOL_LABEL[tool]}: lab boot failed, retrying once: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const labBootSeconds = (Date.now() - t0) / 1000;
  log(`${TOOL_LABEL[tool]}: lab ${lab.prefix} up in ${labBootSeconds.toFixed(1)} s`);
  const loadBefore = os.loadavg();
  try {
    // The person on the client logs in to devices with their own key (as in test/relay.test.ts).
    const key = await lab.exec(
      'client',
      "ssh-keygen -q -t ed25519 -N '' -f ~/.ssh/id_ed25519 && cat ~/.ssh/id_ed25519.pub",
    );
    if (key.code !== 0) throw new Error(`client key: ${key.stderr}`);
    await Promise.all(
      devices.map(async (d) => {
        const r = await lab.exec(d, 'cat >> ~/.ssh/authorized_keys', { input: key.stdout });
        if (r.code !== 0) throw new Error(`authorize client key on ${d}: ${r.stderr}`);
      }),
    );

    const dir = fs.mkdtempSync(path.join(lab.dir, 'bench-'));
    const ansible = tool !== 'relay-play';
    // ansible's OpenSSH reads ~ from passwd, not $HOME: point it at the lab's known_hosts (nothing else changes).
    const extra = ansible ? { ansible_ssh_common_args: `-o UserKnownHostsFile=${lab.home}/.ssh/known_hosts` } : {};
    const invN = path.join(dir, 'inventory.yaml');
    const invN1 = path.join(dir, 'inventory-plus-one.yaml');
    fs.writeFileSync(invN, stringify(inventory(lab, devices.slice(0, n), extra)));
    fs.writeFileSync(invN1, stringify(inventory(lab, devices, extra)));

    const forks = String(names.length);
    const env: Record<string, string> = ansible
      ? {
          ANSIBLE_FORKS: forks,
          ANSIBLE_HOST_KEY_CHECKING: 'False',
          ANSIBLE_NOCOLOR: '1',
          LC_ALL: 'C.UTF-8', // ansible-core refuses to start under a non-UTF-8 locale
          PYTHONUNBUFFERED: '1',
          ...(tool === 'ansible-pipelining' ? { ANSIBLE_PIPELINING: '1' } : {}),
        }
      : {};
    // Stock settings otherwise: main() dropped the caller's ANSIBLE_* variables, and cwd (a fresh temp
    // dir) has no ansible.cfg; HOME is the lab's fresh home, so no ~/.ansible.cfg either.
    const childEnv = { ...env };
    const run = async (inv: string, label: string): Promise<Timed> => {
      log(`${TOOL_LABEL[tool]}: ${label}`);
      const c0 = cpuTimes();
      const r: Timed & { machineBusy?: number } = ansible
        ? await timedRun(lab, ['ansible-playbook', '-i', inv, PLAYBOOK], {
            env: childEnv,
            cwd: dir,
            measure: true,
            timeoutMs: 3_600_000,
          })
        : await timedRun(lab, ['node', CLI, 'apply', inv, '--forks', forks], {
            cwd: RP_ROOT,
            measure: true,
            timeoutMs: 1_800_000,
            env: { RELAY_PLAY_TRACE: '1' },
          });
      r.machineBusy = busyBetween(c0, cpuTimes());
      log(
        `${TOOL_LABEL[tool]}: ${label}: ${r.seconds.toFixed(2)} s, exit ${r.code}, machine CPU busy ${(r.machineBusy * 100).toFixed(0)}%`,
      );
      fs.writeFileSync(
        path.join(LOGS, `${tool}-${label.replace(/\W+/g, '-')}.log`),
        `${r.lines.map((l) => `${l.t.toFixed(3).padStart(8)} ${l.line}`).join('\n')}\n--- stderr\n${r.stderr}`,
      );
      return r;
    };
    const record = (
      label: string,
      r: Timed & { machineBusy?: number },
      expect: (h: string) => boolean | undefined,
      hosts: string[],
    ) => {
      const rec = checkRun(label, r, expect, hosts);
      rec.machineBusy = r.machineBusy;
      // Start-up: relay-play's own account (RELAY_PLAY_TRACE), ms since its process started.
      const firstByte = /^\[trace +(\d+) ms\] first byte to a host/m.exec(r.stderr);
      if (!ansible) rec.startupMs = firstByte ? Number(firstByte[1]) : undefined;
      if (ansible) rec.breakdown = breakdown(r, 'ansible');
      for (const p of rec.problems) log(`PROBLEM ${TOOL_LABEL[tool]}: ${p}`);
      if (!rec.ok)
        process.stderr.write(
          `--- stdout (tail)\n${r.stdout.slice(-4000)}\n--- stderr (tail)\n${r.stderr.slice(-4000)}\n`,
        );
      return rec;
    };

    // A shared machine: let other people's bursts pass before timing (recorded either way).
    const quiet = await waitQuiet();
    log(
      `${TOOL_LABEL[tool]}: machine CPU busy ${(quiet.busy * 100).toFixed(0)}% before timing (waited ${quiet.waitedSeconds.toFixed(0)} s for < 25%)`,
    );
    const floorRuns: number[] = [];
    for (let i = 0; i < o.repeat; i++) floorRuns.push(await floor(lab, hostsN));
    log(
      `${TOOL_LABEL[tool]}: floor (parallel ssh sudo -n true to ${hostsN.length} hosts): ${floorRuns.map((x) => x.toFixed(2)).join(', ')} s`,
    );

    const first = record('first apply', await run(invN, 'first apply'), () => true, hostsN);
    const rpi1 = first.code === 0 && (await reachable(lab, 'rpi1'));
    if (!rpi1)
      first.problems.push(
        'after the first apply, `ssh rpi1 hostname` from the client through the relay did not answer rpi1',
      );
    log(`${TOOL_LABEL[tool]}: ssh rpi1 hostname from the client through the relay: ${rpi1 ? 'ok' : 'FAILED'}`);

    // How many privileged commands (sudo invocations, from the hosts' journals) one no-change run costs each host.
    // A count that cannot be read is an error, never a 0.
    const sudoCount = async (h: string) => {
      const r = await lab.exec(
        h,
        `log=$(sudo -n journalctl -q --no-pager _COMM=sudo) && printf '%s\\n' "$log" | awk '/COMMAND=/ { n++ } END { print n + 0 }'`,
        { timeoutMs: 30_000 },
      );
      if (r.code !== 0 || !/^\d+\n$/.test(r.stdout))
        throw new Error(
          `sudo count on ${h}: could not read the journal (exit ${r.code}): ${r.stdout.trim()} ${r.stderr.trim()}`,
        );
      return Number(r.stdout);
    };
    const phaseProblems: string[] = [];
    const sudoHosts = ['server', 'rpi1', 'client'];
    const sudoBefore = await Promise.all(sudoHosts.map(sudoCount));
    const noChange: RunRecord[] = [];
    for (let i = 0; i < o.repeat; i++)
      noChange.push(record(`no-change re-run ${i + 1}`, await run(invN, `no-change ${i + 1}`), () => false, hostsN));

    const sudoAfter = await Promise.all(sudoHosts.map(sudoCount));
    // minus the reading's own sudo; per run
    const sudoPerNoChangeRun = Object.fromEntries(
      sudoHosts.map((h, i) => [h, Math.round((sudoAfter[i] - sudoBefore[i] - 1) / o.repeat)]),
    );
    log(`${TOOL_LABEL[tool]}: sudo invocations per no-change run: ${JSON.stringify(sudoPerNoChangeRun)}`);

    // relay-play only: `status` of the fleet, every tunnel up. The first one scans each tunnel's host
    // key (once per tunnel session); the ones after it are what a poll costs.
    let status: PhaseResult['status'];
    if (tool === 'relay-play') {
      const runs: number[] = [];
      for (let i = 0; i < o.repeat + 1; i++) {
        const r = await timedRun(lab, ['node', CLI, 'status', invN], { cwd: RP_ROOT, timeoutMs: 120_000 });
        if (r.code !== 0)
          phaseProblems.push(
            `status ${i + 1}: exit ${r.code} (every tunnel should be up): ${r.stdout.slice(-400)} ${r.stderr.slice(-400)}`,
          );
        runs.push(r.seconds);
      }
      status = { runs, first: runs[0], median: median(runs.slice(1)) };
      log(
        `relay-play: status of ${n} devices: ${runs.map((x) => x.toFixed(2)).join(', ')} s (the first scans every tunnel)`,
      );
    }

    // relay-play only: the same no-change run with every device away from home (behind a "NAT": the
    // runner cannot reach them at their address), so each is reached through its own tunnel.
    let away: PhaseResult['away'];
    if (tool === 'relay-play') {
      const awayDevices = devices.slice(0, n);
      for (const d of awayDevices) await lab.setAway(d, true);
      const awayBefore = await sudoCount('rpi1');
      const runs: RunRecord[] = [];
      for (let i = 0; i < o.repeat; i++) {
        const r = await run(invN, `no-change, devices away ${i + 1}`);
        const rec = record(`no-change re-run, devices away ${i + 1}`, r, () => false, hostsN);
        const via = parseVia(r.stdout);
        for (const d of awayDevices)
          if (via[d] !== 'relay')
            rec.problems.push(`devices away: ${d} reached ${via[d] ?? 'by no recorded path'}, not through the relay`);
        rec.ok = rec.problems.length === 0;
        runs.push(rec);
      }
      const rpi1SudoPerRun = Math.round(((await sudoCount('rpi1')) - awayBefore - 1) / o.repeat);
      for (const d of awayDevices) await lab.setAway(d, false);
      away = { noChange: runs, noChangeMedian: okMedian(runs), rpi1SudoPerRun };
      log(
        `relay-play: no-change with every device away: ${runs.map((r) => r.seconds.toFixed(2)).join(', ')} s; sudo on rpi1 per run: ${rpi1SudoPerRun}`,
      );
    }
    const addOne = record(
      'add-one-device re-run',
      await run(invN1, 'add one device'),
      (h) => (h === newDevice || h === 'server' || h === 'client' ? true : false),
      hostsN1,
    );
    const added = addOne.code === 0 && (await reachable(lab, newDevice));
    if (!added)
      addOne.problems.push(`after adding ${newDevice}, \`ssh ${newDevice} hostname\` through the relay did not answer`);
    log(`${TOOL_LABEL[tool]}: ssh ${newDevice} hostname through the relay: ${added ? 'ok' : 'FAILED'}`);

    const state = await endState(lab, 'server', devices, 'client');

    // relay-play's default --forks is 20: with more hosts than that, also time a no-change run as shipped.
    let noChangeDefaultForks: number | undefined;
    if (tool === 'relay-play' && names.length > 20) {
      const r = await timedRun(lab, ['node', CLI, 'apply', invN1], { cwd: RP_ROOT, timeoutMs: 600_000 });
      const rec = checkRun('no-change re-run with default --forks', r, () => false, hostsN1);
      if (!rec.ok) {
        log(`relay-play: default-forks run: ${rec.problems.join('; ')}`);
        phaseProblems.push(...rec.problems);
      } else noChangeDefaultForks = r.seconds;
      log(`relay-play: no-change re-run with the default --forks 20: ${r.seconds.toFixed(2)} s`);
    }

    let profile: PhaseResult['profile'];
    if (tool === 'relay-play' && o.profile) {
      // One more no-change run under the V8 profiler (not timed above): where relay-play's time goes.
      const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-play-bench-prof-'));
      const r = await timedRun(
        lab,
        ['node', `--cpu-prof`, `--cpu-prof-dir=${profDir}`, CLI, 'apply', invN1, '--forks', forks],
        { cwd: RP_ROOT, timeoutMs: 600_000 },
      );
      const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
      if (r.code === 0 && file) {
        profile = { noChange: summarizeProfile(path.join(profDir, file), RP_ROOT) };
        log(
          `relay-play: CPU profile of a no-change run (${r.seconds.toFixed(2)} s wall) in ${path.join(profDir, file)}`,
        );
      } else {
        log(`relay-play: profiling run failed (exit ${r.code})`);
        phaseProblems.push(`profiling no-change run: exit ${r.code}${file ? '' : ', no .cpuprofile written'}`);
      }
    }

    return {
      tool,
      hosts: names.length,
      labBootSeconds,
      loadavg: { before: loadBefore, after: os.loadavg() },
      quietBefore: quiet,
      floor: { runs: floorRuns, median: median(floorRuns) },
      first,
      noChange,
      noChangeMedian: okMedian(noChange),
      addOne,
      verified: { rpi1ThroughRelay: rpi1, newDeviceThroughRelay: added },
      endState: state.compared,
      relayPlayOnly: state.relayPlayOnly,
      problems: phaseProblems,
      noChangeDefaultForks,
      sudoPerNoChangeRun,
      status,
      away,
      profile,
      env: ansible ? env : undefined,
    };
  } finally {
    await lab.teardown();
  }
}

/** The relay-play under test: this checkout's dist/ (--worktree), or a build of --commit in a temp dir. */
function relayPlayUnderTest(o: Options): RelayPlayUnderTest {
  if (o.worktree) {
    const commit = gitIn(REPO, 'rev-parse', '--verify', 'HEAD^{commit}');
    const dirty = gitIn(REPO, 'status', '--porcelain', '--', 'src', 'roles', 'playbooks', 'bin', 'package.json')
      .split('\n')
      .filter(Boolean);
    return { source: 'working tree', commit, dirty, root: REPO };
  }
  const { commit, root } = buildSnapshot(REPO, o.commit, log);
  return { source: 'commit snapshot', commit, root };
}

function ensureTools(o: Options): void {
  if (!have('/usr/bin/time', ['-V'])) {
    log('GNU time (/usr/bin/time, for peak RSS) is missing: installing it with `apt-get install -y time`');
    aptInstall(['time']);
  }
  if (o.tools.some((t) => t !== 'relay-play') && !have('ansible-playbook')) {
    log("ansible-playbook is missing: installing Debian's ansible-core with `apt-get install -y ansible-core`");
    aptInstall(['ansible-core']);
  }
}

function table(rep: Report): string {
  const by = Object.fromEntries(rep.phases.map((p) => [p.tool, p])) as Partial<Record<Tool, PhaseResult>>;
  const rp = by['relay-play'];
  const cols = rep.phases.map((p) => p.tool);
  const rows: [string, (p: PhaseResult) => number | undefined][] = [
    ['first apply', (p) => p.first.seconds],
    [`no-change re-run (median of ${rep.repeat})`, (p) => p.noChangeMedian],
    ['add-one-device re-run', (p) => p.addOne.seconds],
    [`no-change re-run, every device away (median of ${rep.repeat}; relay-play only)`, (p) => p.away?.noChangeMedian],
  ];
  const head = [
    '',
    ...cols.flatMap((t) => (t === 'relay-play' || !rp ? [TOOL_LABEL[t]] : [TOOL_LABEL[t], '× relay-play'])),
  ];
  const body: string[][] = rows.map(([name, get]) => [
    name,
    ...cols.flatMap((t) => {
      const v = get(by[t]!);
      if (t === 'relay-play' || !rp) return [`${f2(v)} s`];
      const base = get(rp);
      return [`${f2(v)} s`, base && v ? `${(v / base).toFixed(1)}×` : '—'];
    }),
  ]);
  body.push([
    'floor: parallel `ssh host sudo -n true` (median)',
    ...cols.flatMap((t) =>
      t === 'relay-play' || !rp ? [`${f2(by[t]!.floor.median)} s`] : [`${f2(by[t]!.floor.median)} s`, ''],
    ),
  ]);
  body.push([
    'peak RSS (largest process)',
    ...cols.flatMap((t) => {
      const v = by[t]!.first.peakRssMB;
      const all = [by[t]!.first, ...by[t]!.noChange, by[t]!.addOne].map((r) => r.peakRssMB ?? 0);
      return t === 'relay-play' || !rp
        ? [`${Math.max(...all)} MB`]
        : [`${v === undefined ? '—' : Math.max(...all)} MB`, ''];
    }),
  ]);
  body.push([
    'CPU time of first apply (user+sys, children incl.)',
    ...cols.flatMap((t) => {
      const v = by[t]!.first.cpuSeconds;
      if (t === 'relay-play' || !rp) return [`${f2(v)} s`];
      return [`${f2(v)} s`, v && rp.first.cpuSeconds ? `${(v / rp.first.cpuSeconds).toFixed(1)}×` : ''];
    }),
  ]);
  const widths = head.map((_, i) => Math.max(...[head, ...body].map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [
    line(head),
    `|${widths.map((w, i) => (i === 0 ? ':' : '') + '-'.repeat(w + 1) + (i === 0 ? '' : ':')).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}

function targets(rep: Report): Report['targets'] {
  const by = Object.fromEntries(rep.phases.map((p) => [p.tool, p])) as Partial<Record<Tool, PhaseResult>>;
  const rp = by['relay-play'];
  if (!rp) return undefined;
  const out: NonNullable<Report['targets']> = [];
  const nc = rp.noChangeMedian;
  out.push({ name: 'no-change re-run ≤ 2 s', holds: nc <= 2, detail: `${f2(nc)} s` });
  if (by.ansible) {
    out.push({
      name: 'no-change re-run ≥ 10× faster than stock ansible-playbook',
      holds: by.ansible.noChangeMedian / nc >= 10,
      detail: `${(by.ansible.noChangeMedian / nc).toFixed(1)}× (${f2(by.ansible.noChangeMedian)} s vs ${f2(nc)} s)`,
    });
    out.push({
      name: 'first apply ≥ 8× faster than stock ansible-playbook',
      holds: by.ansible.first.seconds / rp.first.seconds >= 8,
      detail: `${(by.ansible.first.seconds / rp.first.seconds).toFixed(1)}× (${f2(by.ansible.first.seconds)} s vs ${f2(rp.first.seconds)} s)`,
    });
  }
  out.push({
    name: 'no-change re-run within 2× of the floor',
    holds: nc <= 2 * rp.floor.median,
    detail: `${(nc / rp.floor.median).toFixed(1)}× (${f2(nc)} s vs floor ${f2(rp.floor.median)} s)`,
  });
  if (rp.away) {
    const a = rp.away.noChangeMedian;
    out.push({
      name: 'no-change re-run with every device away (through the relay) within 1.5× of all at home',
      holds: a <= 1.5 * nc,
      detail: `${(a / nc).toFixed(2)}× (${f2(a)} s vs ${f2(nc)} s)`,
    });
    const home = rp.sudoPerNoChangeRun.rpi1;
    out.push({
      name: 'round trips per device unchanged when away (sudo on rpi1 per no-change run)',
      holds: rp.away.rpi1SudoPerRun === home,
      detail: `${rp.away.rpi1SudoPerRun} away vs ${home} at home`,
    });
  }
  // Issue 17: start-up, the floor, status, first apply.
  const startups = rp.noChange.filter((r) => r.ok && r.startupMs !== undefined).map((r) => r.startupMs!);
  if (startups.length) {
    const s = median(startups);
    out.push({
      name: 'start-up ≤ 150 ms (process start → first byte to a host, median of the no-change runs)',
      holds: s <= 150,
      detail: `${s.toFixed(0)} ms (runs: ${startups.join(', ')} ms; the first apply's: ${rp.first.startupMs ?? '—'} ms)`,
    });
  }
  out.push({
    name: `no-change re-run of ${rep.devices} devices ≤ 1.2× the floor`,
    holds: nc <= 1.2 * rp.floor.median,
    detail: `${(nc / rp.floor.median).toFixed(2)}× (${f2(nc)} s vs floor ${f2(rp.floor.median)} s)`,
  });
  if (rp.status)
    out.push({
      name: `status of ${rep.devices} devices ≤ 0.5 s`,
      holds: rp.status.median <= 0.5,
      detail: `${f2(rp.status.median)} s (median of ${rp.status.runs.length - 1}: ${rp.status.runs.slice(1).map(f2).join(', ')} s; the first, which scans every tunnel's host key: ${f2(rp.status.first)} s)`,
    });
  if (by.ansible)
    out.push({
      name: 'first apply ≥ 12× faster than stock ansible-playbook',
      holds: by.ansible.first.seconds / rp.first.seconds >= 12,
      detail: `${(by.ansible.first.seconds / rp.first.seconds).toFixed(1)}× (${f2(by.ansible.first.seconds)} s vs ${f2(rp.first.seconds)} s)`,
    });
  const rss = Math.max(...[rp.first, ...rp.noChange, rp.addOne].map((r) => r.peakRssMB ?? 0));
  out.push({
    name: `peak RSS < 200 MB (at ${rep.devices} devices; the issue asks it at 64)`,
    holds: rss < 200,
    detail: `${rss} MB`,
  });
  // Scaling: compare with the latest valid 8-device results in bench/results of the same relay-play
  // commit on the same kind of machine (two runs: the file is named in the detail).
  const base = rep.devices === 8 ? undefined : baseline(RESULTS, 8, rep, log);
  if (base) {
    const r8 = base.report.phases.find((p) => p.tool === 'relay-play');
    if (r8) {
      for (const [name, a, b] of [
        ['first apply', r8.first.seconds, rp.first.seconds],
        ['no-change re-run', r8.noChangeMedian, nc],
        ['add-one-device re-run', r8.addOne.seconds, rp.addOne.seconds],
      ] as const) {
        // The floor's own growth on the same machine: what no tool can do better than.
        const floor = `the floor itself ${(rp.floor.median / r8.floor.median).toFixed(2)}× (${f2(rp.floor.median)} s vs ${f2(r8.floor.median)} s)`;
        out.push({
          name: `${rep.devices} devices ≤ 2× the time of 8 (${name})`,
          holds: b <= 2 * a,
          detail: `${(b / a).toFixed(2)}× (${f2(b)} s vs ${f2(a)} s, 8 devices from ${base.file}); ${floor}`,
        });
      }
    }
  }
  return out;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const avail = labAvailable();
  if (!avail.ok) {
    process.stderr.write(`bench: the lab cannot run here: ${avail.why}\n`);
    process.exit(1);
  }
  ensureTools(o);
  const rpt = relayPlayUnderTest(o);
  RP_ROOT = rpt.root;
  CLI = path.join(RP_ROOT, 'bin', 'relay-play.js');
  log(
    `relay-play under test: ${rpt.source} ${rpt.commit.slice(0, 12)}${rpt.dirty?.length ? ` with uncommitted changes to ${rpt.dirty.length} file(s)` : ''} (${CLI})`,
  );
  for (const k of Object.keys(process.env)) if (k.startsWith('ANSIBLE_')) delete process.env[k];
  fs.mkdirSync(LOGS, { recursive: true });
  const rep: Report = {
    date: new Date().toISOString(),
    devices: o.devices,
    hosts: o.devices + 2,
    repeat: o.repeat,
    machine: machine(),
    relayPlay: rpt,
    phases: [],
    problems: [],
    valid: false,
    notCompared: notCompared(),
  };
  log(
    `machine: ${rep.machine.nproc} CPUs (${rep.machine.cpuModel}), ${rep.machine.memoryGiB} GiB; ${rep.machine.ansible ?? 'no ansible'}; ${rep.machine.openssh}`,
  );
  if (o.tunnels !== undefined) return runTunnels(o, rep);
  if (o.relays !== undefined) return runRelays(o, rep);
  for (const tool of o.tools) {
    let p: PhaseResult;
    try {
      p = await phase(tool, o);
    } catch (e) {
      // e.g. a lab that would not boot twice: keep the other tools' results, say what is missing.
      const msg = `${TOOL_LABEL[tool]}: not measured: ${(e as Error).message.split('\n')[0]}`;
      log(msg);
      rep.problems.push(msg);
      continue;
    }
    rep.phases.push(p);
    for (const r of [p.first, ...p.noChange, p.addOne])
      rep.problems.push(...r.problems.map((x) => `${TOOL_LABEL[tool]}: ${x}`));
    rep.problems.push(...p.problems.map((x) => `${TOOL_LABEL[tool]}: ${x}`));
  }
  if (!rep.phases.length) {
    process.stderr.write(`bench: nothing measured\n${rep.problems.join('\n')}\n`);
    process.exit(1);
  }
  rep.endStateDiffers = compareEndStates(rep.phases);
  if (o.tools.length > 1 && !rep.phases.some((p) => p.tool === 'relay-play'))
    rep.problems.push('relay-play not measured: the other tools cannot be compared with it');
  rep.problems = reportProblems(rep);
  rep.valid = rep.problems.length === 0;
  if (!rep.valid) {
    // Nothing of an invalid comparison is published: no table, no ratios, no results file; a record
    // for whoever debugs it goes to bench/results/logs/ (not committed).
    const record = path.join(LOGS, `${rep.date.slice(0, 19).replace(/:/g, '')}-${o.devices}-INVALID.json`);
    fs.writeFileSync(record, JSON.stringify(rep, null, 2) + '\n');
    const out = [
      `\nTHE COMPARISON IS NOT VALID: no figures or ratios are printed or saved.\n`,
      'What went wrong or differed:',
      ...rep.problems.map((p) => `  - ${p}`),
    ];
    for (const [tool, diff] of Object.entries(rep.endStateDiffers)) {
      for (const [item, lines] of Object.entries(diff))
        out.push(`\n  ${TOOL_LABEL[tool as Tool]} vs relay-play, ${item}:`, ...lines.map((l) => `    ${l}`));
    }
    out.push(`\nrecord (not a result): ${path.relative(REPO, record)}`);
    process.stdout.write(out.join('\n') + '\n');
    process.exitCode = 1;
    return;
  }
  rep.targets = targets(rep);
  // <date>T<hhmm>-<N>.json for a run of every tool (UTC; a later run never replaces an earlier one); a
  // partial run gets its tools in the name too.
  const partial = o.tools.length === TOOLS.length ? '' : `-${o.tools.join('+')}`;
  const file = path.join(RESULTS, `${rep.date.slice(0, 16).replace(':', '')}-${o.devices}${partial}.json`);
  fs.writeFileSync(file, JSON.stringify(rep, null, 2) + '\n');

  const m = rep.machine;
  const out: string[] = [];
  out.push(
    `\nrelay-play vs ansible-playbook: ${o.devices} devices + relay + client (${o.devices + 2} hosts; add-one: ${o.devices + 3}), forks = all hosts for every tool`,
  );
  out.push(
    `relay-play ${rep.relayPlay.commit.slice(0, 12)} (${rep.relayPlay.source}${rep.relayPlay.dirty?.length ? ', dirty' : ''})`,
  );
  out.push(
    `${rep.date.slice(0, 16).replace('T', ' ')} UTC, ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM, Linux ${m.kernel}, node ${m.node}, ${m.ansible ?? ''}, ${m.openssh ?? ''}\n`,
  );
  out.push(table(rep));
  out.push('');
  for (const p of rep.phases) {
    const busy = [p.first, ...p.noChange, p.addOne].map((r) => `${((r.machineBusy ?? 0) * 100).toFixed(0)}%`).join('/');
    out.push(
      `${TOOL_LABEL[p.tool]}: lab boot ${p.labBootSeconds.toFixed(1)} s; CPU busy before ${(p.quietBefore.busy * 100).toFixed(0)}%, during runs ${busy}; loadavg ${p.loadavg.before.map((x) => x.toFixed(2)).join(' ')} → ${p.loadavg.after.map((x) => x.toFixed(2)).join(' ')}; no-change runs ${p.noChange.map((r) => f2(r.seconds)).join(', ')} s; sudo per no-change run ${JSON.stringify(p.sudoPerNoChangeRun)}; CPU s (first/no-change/add-one) ${f2(p.first.cpuSeconds)}/${f2(p.noChange[0].cpuSeconds)}/${f2(p.addOne.cpuSeconds)}; floor runs ${p.floor.runs.map(f2).join(', ')} s`,
    );
  }
  const rp = rep.phases.find((p) => p.tool === 'relay-play');
  if (rp) {
    const b = rp.first.breakdown;
    out.push(
      `\nrelay-play first apply: start-up ${f2(b.startup)} s, ${b.plays.map((x) => `${x.name} ${f2(x.seconds)} s`).join(', ')}, exit ${f2(b.shutdown)} s`,
    );
    const slow = [...b.tasks].sort((x, y) => y.mean - x.mean).slice(0, 6);
    out.push(
      `  slowest tasks (mean / max over hosts): ${slow.map((t) => `${t.task} ${f2(t.mean)}/${f2(t.max)} s`).join('; ')}`,
    );
    if (rp.noChangeDefaultForks !== undefined)
      out.push(
        `relay-play no-change re-run with the default --forks 20 (${rep.devices + 3} hosts): ${f2(rp.noChangeDefaultForks)} s`,
      );
    const nb = rp.noChange[0].breakdown;
    out.push(
      `relay-play no-change run: start-up ${f2(nb.startup)} s, ${nb.plays.map((x) => `${x.name} ${f2(x.seconds)} s`).join(', ')}, exit ${f2(nb.shutdown)} s`,
    );
    if (rp.profile) {
      const pr = rp.profile.noChange;
      out.push(
        `relay-play CPU profile of a no-change run (${f2(pr.seconds)} s): ${pr.buckets
          .slice(0, 8)
          .map((x) => `${x.name} ${f2(x.seconds)} s`)
          .join(', ')}`,
      );
      out.push(
        `  top functions: ${pr.top
          .slice(0, 6)
          .map((x) => `${x.fn} (${x.where}) ${f2(x.seconds)} s`)
          .join('; ')}`,
      );
    }
  }
  if (rep.targets) {
    out.push('\ntargets:');
    for (const t of rep.targets) out.push(`  ${t.holds ? 'HOLDS' : 'MISSES'}  ${t.name}: ${t.detail}`);
  }
  for (const tool of Object.keys(rep.endStateDiffers)) {
    out.push(
      `end state of ${TOOL_LABEL[tool as Tool]} vs relay-play on all ${rep.hosts + 1} hosts (keys masked): identical`,
    );
  }
  if (Object.keys(rep.endStateDiffers).length) {
    const paths = (rep.notCompared?.installedOnlyByRelayPlay ?? []).map((o) => `${o.path} (${o.roles.join(', ')})`);
    out.push(`  not compared, installed only by relay-play (bench/README.md): ${paths.join(', ')}`);
  }
  out.push(`\nresults: ${path.relative(REPO, file)}`);
  process.stdout.write(out.join('\n') + '\n');
}

/** --tunnels N: a relay holding N simulated device tunnels (bench/tunnels.ts). */
async function runTunnels(o: Options, rep: Report): Promise<void> {
  const names = ['server', ...Array.from({ length: o.sims }, (_, i) => `sim${i + 1}`)];
  log(`tunnels: booting a lab of ${names.length} hosts (relay, ${o.sims} sim hosts)`);
  const lab = await startLab(names, { bootTimeoutMs: 180_000, release: o.release });
  let result: TunnelReport;
  const quiet = await waitQuiet();
  const loadBefore = os.loadavg();
  try {
    result = await tunnelBench(lab, {
      tunnels: o.tunnels!,
      sims: o.sims,
      cli: CLI,
      rpRoot: RP_ROOT,
      log,
      deviceKex: o.deviceKex,
    });
  } finally {
    await lab.teardown();
  }
  const targets = tunnelTargets(result);
  const file = path.join(
    RESULTS,
    `${rep.date.slice(0, 16).replace(/:/g, '')}-tunnels-${o.tunnels}${o.deviceKex === 'curve25519' ? '-curve25519' : ''}${o.release ? `-${o.release}` : ''}.json`,
  );
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        ...rep,
        labRelease: o.release ?? 'bookworm',
        tunnels: result,
        targets,
        machineBusyBefore: quiet.busy,
        loadavg: { before: loadBefore, after: os.loadavg() },
      },
      null,
      2,
    ) + '\n',
  );
  const m = rep.machine;
  const out = [
    `\nrelay-play ${rep.relayPlay.commit.slice(0, 12)}: one relay, ${o.tunnels} tunnels from ${o.sims} sim hosts, all Debian ${o.release ?? 'bookworm'}`,
    `${rep.date.slice(0, 16).replace('T', ' ')} UTC, ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM, Linux ${m.kernel}, node ${m.node}, ${m.openssh ?? ''}; loadavg ${loadBefore.map((x) => x.toFixed(2)).join(' ')} → ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
    `apply ${result.applySeconds.toFixed(1)} s; all tunnels up ${result.firstStart.allListeningSeconds.toFixed(1)} s after starting them; tunnels back after the reboot (s after sshd answered → listening): ${result.reboot.samples
      .filter((_, i, a) => i % 8 === 0 || i === a.length - 1)
      .map(([t, c]) => `${t}→${c}`)
      .join(' ')}`,
    '\ntargets:',
    ...targets.map((t) => `  ${t.holds ? 'HOLDS' : 'MISSES'}  ${t.name}: ${t.detail}`),
    `\nresults: ${path.relative(REPO, file)}`,
  ];
  process.stdout.write(out.join('\n') + '\n');
  process.exitCode = targets.every((t) => t.holds) ? 0 : 1;
}

/** --relays K: the cost of K relays over one on a no-change apply (bench/relays.ts). */
async function runRelays(o: Options, rep: Report): Promise<void> {
  const names = [...relayNames(o.relays!), ...benchDevices(o.devices), 'client'];
  log(`relays: booting a lab of ${names.length} hosts (${o.relays} relays, ${o.devices} devices, client)`);
  const lab = await startLab(names, { bootTimeoutMs: Math.max(180_000, names.length * 6_000) });
  const quiet = await waitQuiet();
  const loadBefore = os.loadavg();
  let result: RelaysReport;
  try {
    result = await relaysBench(lab, {
      relays: o.relays!,
      devices: o.devices,
      repeat: o.repeat,
      cli: CLI,
      rpRoot: RP_ROOT,
      log,
    });
  } finally {
    await lab.teardown();
  }
  if (result.problems.length) {
    process.stdout.write(`\nNOT VALID: no figures saved.\n${result.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exitCode = 1;
    return;
  }
  const targets = relaysTargets(result);
  const file = path.join(RESULTS, `${rep.date.slice(0, 16).replace(/:/g, '')}-relays-${o.relays}-${o.devices}.json`);
  const loadAfter = os.loadavg();
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        ...rep,
        relays: result,
        targets,
        machineBusyBefore: quiet.busy,
        loadavg: { before: loadBefore, after: loadAfter },
      },
      null,
      2,
    ) + '\n',
  );
  const m = rep.machine;
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  process.stdout.write(
    [
      `\nrelay-play ${rep.relayPlay.commit.slice(0, 12)}: ${o.devices} devices, a client, 1 relay then ${o.relays}`,
      `${rep.date.slice(0, 16).replace('T', ' ')} UTC, ${m.nproc} CPUs (${m.cpuModel}), node ${m.node}; loadavg ${load(loadBefore)} → ${load(loadAfter)}`,
      `first apply (1 relay) ${f2(result.firstApplySeconds)} s; apply adding ${result.relays.slice(1).join(', ')} ${f2(result.addRelaysSeconds)} s`,
      `no-change runs: 1 relay ${result.noChangeOne.map(f2).join(', ')} s; ${o.relays} relays ${result.noChangeAll.map(f2).join(', ')} s`,
      `slowest no-change run, 1 relay: ${result.breakdownOne ? playsLine(result.breakdownOne) : '—'}`,
      `slowest no-change run, ${o.relays} relays: ${result.breakdownAll ? playsLine(result.breakdownAll) : '—'}`,
      '\ntargets:',
      ...targets.map((t) => `  ${t.holds ? 'HOLDS' : 'MISSES'}  ${t.name}: ${t.detail}`),
      `\nresults: ${path.relative(REPO, file)}`,
    ].join('\n') + '\n',
  );
  process.exitCode = targets.every((t) => t.holds) ? 0 : 1;
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
