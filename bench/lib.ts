// Helpers for bench/run.ts: timed child processes in the lab's bridge namespace, recap parsing,
// per-play / per-task timing from timestamped output, CPU profile summaries, machine facts.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Lab } from '../test/lab/index.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const SBIN_PATH = (() => {
  const parts = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const p of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])
    if (!parts.includes(p)) parts.push(p);
  return parts.join(':');
})();

export interface Line {
  t: number;
  line: string;
}
export interface Timed {
  code: number;
  seconds: number;
  stdout: string;
  stderr: string;
  /** stdout lines with the seconds since start at which each arrived */
  lines: Line[];
  /** from /usr/bin/time: peak RSS of the largest process waited for (kB), CPU seconds (user+sys, children included) */
  maxRssKb?: number;
  cpuSeconds?: number;
}

/**
 * Run argv inside the lab's bridge namespace (as lab.run does: HOME=lab.home), optionally under
 * /usr/bin/time, and timestamp every stdout line. The wall time is from spawn to exit.
 */
export function timedRun(
  lab: Lab,
  argv: string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; measure?: boolean } = {},
): Promise<Timed> {
  const timeFile = opts.measure ? path.join(lab.dir, `time-${process.pid}-${Date.now()}.txt`) : undefined;
  const full = [
    'netns',
    'exec',
    lab.bridgeNs,
    ...(timeFile ? ['/usr/bin/time', '-o', timeFile, '-f', 'maxrss_kb=%M user=%U sys=%S'] : []),
    ...argv,
  ];
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const since = () => Number(process.hrtime.bigint() - t0) / 1e9;
    const child = spawn('ip', full, {
      env: { ...process.env, PATH: SBIN_PATH, LC_ALL: 'C', HOME: lab.home, ...opts.env },
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Line[] = [];
    let partial = '';
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      const t = since();
      stdout += s;
      partial += s;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const line of parts) lines.push({ t, line });
    });
    child.stderr.on('data', (s: string) => (stderr += s));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('close', (code, signal) => {
      const seconds = since();
      if (timer) clearTimeout(timer);
      if (partial) lines.push({ t: seconds, line: partial });
      const r: Timed = { code: code ?? (signal ? 128 : 1), seconds, stdout, stderr, lines };
      if (timeFile) {
        try {
          const text = fs.readFileSync(timeFile, 'utf8');
          fs.rmSync(timeFile, { force: true });
          const m = /maxrss_kb=(\d+) user=([\d.]+) sys=([\d.]+)/.exec(text);
          if (m) {
            r.maxRssKb = Number(m[1]);
            r.cpuSeconds = Number(m[2]) + Number(m[3]);
          }
        } catch {
          /* time did not write it */
        }
      }
      resolve(r);
    });
  });
}

export interface HostRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
}

/** PLAY RECAP lines of relay-play or ansible-playbook (ansible pads fields with several spaces). */
export function parseRecap(stdout: string): Record<string, HostRecap> {
  const out: Record<string, HostRecap> = {};
  const at = stdout.lastIndexOf('PLAY RECAP');
  const re = /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)/gm;
  for (const m of stdout.slice(at < 0 ? 0 : at).matchAll(re)) {
    out[m[1]] = { ok: +m[2], changed: +m[3], unreachable: +m[4], failed: +m[5], skipped: +m[6] };
  }
  return out;
}

/** relay-play's recap: how each device of a relay inventory was reached (`via=direct|relay`). */
export function parseVia(stdout: string): Record<string, string> {
  const at = stdout.lastIndexOf('PLAY RECAP');
  return Object.fromEntries(
    [...stdout.slice(at < 0 ? 0 : at).matchAll(/^(\S+)\s+:\s+ok=.* via=(\w+)$/gm)].map((m) => [m[1], m[2]]),
  );
}

export interface Breakdown {
  /** spawn → first PLAY line (process start-up, parsing, validation) */
  startup: number;
  plays: { name: string; seconds: number }[];
  /** PLAY RECAP → exit (closing connections, exit) */
  shutdown: number;
  /** per task: seconds (relay-play: mean and max over hosts of the time since the host's previous result; ansible: header to header) */
  tasks: { play: string; task: string; mean: number; max: number }[];
}

/** Where the wall time of one run went, from the timestamps of its output lines. */
export function breakdown(r: Timed, style: 'relay-play' | 'ansible'): Breakdown {
  const playIdx = r.lines.flatMap((l, i) => (/^PLAY \[/.test(l.line) ? [i] : []));
  const recapLine = r.lines.find((l) => l.line.startsWith('PLAY RECAP'));
  const end = recapLine?.t ?? r.seconds;
  const plays = playIdx.map((i, k) => ({
    name: /^PLAY \[(.*)\]/.exec(r.lines[i].line)![1],
    seconds: (k + 1 < playIdx.length ? r.lines[playIdx[k + 1]].t : end) - r.lines[i].t,
  }));
  const tasks: Breakdown['tasks'] = [];
  if (style === 'relay-play') {
    // Each host runs its tasks in order: a result's time minus that host's previous event in the play.
    const acc = new Map<string, { play: string; task: string; times: number[] }>();
    let play = '';
    let playStart = 0;
    let last = new Map<string, number>();
    for (const l of r.lines) {
      const p = /^PLAY \[(.*)\]/.exec(l.line);
      if (p) {
        play = p[1];
        playStart = l.t;
        last = new Map();
        continue;
      }
      const m = /^(ok|changed|skipping|fatal|failed \(ignored\)): \[([^\]]+)\] (.*?)( => .*)?$/.exec(l.line);
      if (!m) continue;
      const host = m[2];
      const dt = l.t - (last.get(host) ?? playStart);
      last.set(host, l.t);
      const key = `${play}\u0000${m[3]}`;
      if (!acc.has(key)) acc.set(key, { play, task: m[3], times: [] });
      acc.get(key)!.times.push(dt);
    }
    for (const a of acc.values())
      tasks.push({
        play: a.play,
        task: a.task,
        mean: a.times.reduce((x, y) => x + y, 0) / a.times.length,
        max: Math.max(...a.times),
      });
  } else {
    let play = '';
    let cur: { task: string; t: number } | undefined;
    const close = (t: number) => {
      if (cur) tasks.push({ play, task: cur.task, mean: t - cur.t, max: t - cur.t });
      cur = undefined;
    };
    for (const l of r.lines) {
      const p = /^PLAY \[(.*)\]/.exec(l.line);
      if (p) {
        close(l.t);
        play = p[1];
        continue;
      }
      const t = /^(TASK|RUNNING HANDLER) \[(.*)\]/.exec(l.line);
      if (t) {
        close(l.t);
        cur = { task: t[1] === 'TASK' ? t[2] : `handler: ${t[2]}`, t: l.t };
      }
      if (l.line.startsWith('PLAY RECAP')) close(l.t);
    }
  }
  return {
    startup: playIdx.length ? r.lines[playIdx[0]].t : r.seconds,
    plays,
    shutdown: r.seconds - end,
    tasks,
  };
}

export interface ProfileSummary {
  file: string;
  seconds: number;
  /** time by bucket: (idle), module loading, each npm package, relay-play's own code, GC, ... */
  buckets: { name: string; seconds: number }[];
  /** top functions by self time (idle excluded) */
  top: { fn: string; where: string; seconds: number }[];
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/**
 * Where the time of a V8 .cpuprofile (node --cpu-prof) went. Buckets: (idle) = waiting for the hosts;
 * "module loading" = anything under node's module loader (import, compile, top-level code);
 * otherwise the innermost npm package on the stack (so ajv called by relay-play counts as ajv), then
 * relay-play's own directory (src/<dir>), then node internals / native.
 */
export function summarizeProfile(file: string, repo: string): ProfileSummary {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const isLoader = (url: string) => url.startsWith('node:internal/modules/');
  const libOf = (url: string): string | undefined => {
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (nm) return `npm: ${nm[1]}`;
    if (url.includes('/dist/src/'))
      return `relay-play: src/${url.split('/dist/src/')[1].split('/')[0].replace(/\.js$/, '')}`;
    return undefined;
  };
  const buckets = new Map<string, number>();
  const fns = new Map<string, { fn: string; where: string; us: number }>();
  // timeDeltas[i] is the time before sample i; attribute it to sample i-1 (what was running).
  for (let i = 1; i < prof.samples.length; i++) {
    const us = prof.timeDeltas[i];
    const leafId = prof.samples[i - 1];
    const leaf = byId.get(leafId)?.callFrame;
    if (!leaf) continue;
    let bucket: string;
    if (
      leaf.functionName === '(idle)' ||
      leaf.functionName === '(garbage collector)' ||
      leaf.functionName === '(program)'
    )
      bucket = leaf.functionName;
    else {
      const stack: string[] = [];
      for (let id: number | undefined = leafId; id !== undefined; id = parent.get(id))
        stack.push(byId.get(id)!.callFrame.url);
      if (stack.some(isLoader)) bucket = 'module loading (import, compile, top-level code)';
      else
        bucket =
          stack.map(libOf).find((x) => x) ?? (leaf.url.startsWith('node:') ? 'node internals' : '(native / builtins)');
    }
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + us);
    if (leaf.functionName === '(idle)') continue;
    const where = leaf.url
      ? `${leaf.url.replace(`file://${repo}/`, '').replace(/^.*node_modules\//, '')}:${leaf.lineNumber + 1}`
      : '';
    const key = `${leaf.functionName}@${where}`;
    const f = fns.get(key) ?? { fn: leaf.functionName || '(anonymous)', where, us: 0 };
    f.us += us;
    fns.set(key, f);
  }
  return {
    file,
    seconds: (prof.endTime - prof.startTime) / 1e6,
    buckets: [...buckets].map(([name, us]) => ({ name, seconds: us / 1e6 })).sort((a, b) => b.seconds - a.seconds),
    top: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, 15)
      .map((f) => ({ fn: f.fn, where: f.where, seconds: f.us / 1e6 })),
  };
}

export interface Machine {
  nproc: number;
  memoryGiB: number;
  cpuModel: string;
  kernel: string;
  node: string;
  ansible?: string;
  openssh?: string;
}

export function machine(): Machine {
  let cpuModel = os.cpus()[0]?.model ?? '?';
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1].trim();
  } catch {
    /* keep os.cpus() */
  }
  const first = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return r.status === 0 || r.stderr ? ((r.stdout || r.stderr) ?? '').split('\n')[0].trim() || undefined : undefined;
  };
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cpuModel,
    kernel: os.release(),
    node: process.version,
    ansible: first('ansible-playbook', ['--version']),
    openssh: first('ssh', ['-V']),
  };
}

/** True when `cmd` runs. */
export function have(cmd: string, args = ['--version']): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error;
}

/** apt-get install (apt-get update first if the package is unknown); output goes to stderr. */
export function aptInstall(pkgs: string[]): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', PATH: SBIN_PATH };
  const inst = () => spawnSync('apt-get', ['install', '-y', ...pkgs], { stdio: ['ignore', 2, 2], env });
  if (inst().status === 0) return;
  spawnSync('apt-get', ['update'], { stdio: ['ignore', 2, 2], env });
  if (inst().status !== 0) throw new Error(`apt-get install -y ${pkgs.join(' ')} failed`);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Total and idle jiffies of all CPUs (/proc/stat). */
export function cpuTimes(): { total: number; idle: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  return { total: v.reduce((a, b) => a + b, 0), idle: v[3] + (v[4] ?? 0) };
}

/** Share of CPU time the whole machine was busy between two cpuTimes() readings (0..1). */
export const busyBetween = (a: { total: number; idle: number }, b: { total: number; idle: number }): number =>
  b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0;

/**
 * Wait (up to maxMs) until the machine is quiet: under maxBusy CPU use over a 3 s window. Other
 * people's work on a shared machine skews timings; returns the last busy share seen and the wait.
 */
export async function waitQuiet(maxBusy = 0.25, maxMs = 240_000): Promise<{ busy: number; waitedSeconds: number }> {
  const t0 = Date.now();
  for (;;) {
    const a = cpuTimes();
    await sleep(3000);
    const busy = busyBetween(a, cpuTimes());
    if (busy < maxBusy || Date.now() - t0 > maxMs) return { busy, waitedSeconds: (Date.now() - t0) / 1000 };
  }
}

/** `git -C repo ARGS`, its output trimmed; throws when git fails. */
export function gitIn(repo: string, ...args: string[]): string {
  const r = spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * relay-play at `rev`, exported (git archive) to $TMPDIR/relay-play-bench-<sha> and built there as
 * `npm run build` builds it (once per commit; the checkout's node_modules is linked). Its root.
 */
export function buildSnapshot(REPO: string, rev: string, log: (m: string) => void): { commit: string; root: string } {
  const commit = gitIn(REPO, 'rev-parse', '--verify', `${rev}^{commit}`);
  const dir = path.join(os.tmpdir(), `relay-play-bench-${commit.slice(0, 12)}`);
  if (!fs.existsSync(path.join(dir, '.built'))) {
    log(`building relay-play ${commit.slice(0, 12)} (${rev}) in ${dir}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    // scripts/ holds the build's later steps (absent in older commits: git archive is given only what exists).
    const paths = ['bin', 'src', 'roles', 'playbooks', 'package.json', 'tsconfig.json', 'scripts'].filter(
      (p) => spawnSync('git', ['-C', REPO, 'cat-file', '-e', `${commit}:${p}`]).status === 0,
    );
    const x = spawnSync(
      'sh',
      [
        '-c',
        'd=$1 out=$2 rev=$3; shift 3; git -C "$d" archive --format=tar "$rev" "$@" | tar -x -C "$out"',
        'sh',
        REPO,
        dir,
        commit,
        ...paths,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (x.status !== 0) throw new Error(`git archive ${rev} failed`);
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
    const tsconfig = { extends: './tsconfig.json', include: ['src/**/*.ts'] };
    fs.writeFileSync(path.join(dir, 'tsconfig.bench.json'), JSON.stringify(tsconfig));
    const tsc = spawnSync(
      process.execPath,
      [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(dir, 'tsconfig.bench.json')],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (tsc.status !== 0) throw new Error(`tsc of ${rev}'s src/ failed in ${dir}`);
    // The commit's own later build steps (`npm run build` after tsc: schemas, scripts, the bundle), run in the snapshot.
    const build = String(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).scripts?.build ?? '');
    for (const step of build.split('&&').map((x: string) => x.trim())) {
      if (!step || step.startsWith('tsc ')) continue;
      const r = spawnSync('sh', ['-c', step], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
      if (r.status !== 0) throw new Error(`${step} failed in ${dir}`);
    }
    fs.writeFileSync(path.join(dir, '.built'), `${commit}\n`);
  }
  return { commit, root: dir };
}
