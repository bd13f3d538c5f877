// test/lab — boots a fleet of real Debian hosts (systemd-nspawn containers, each in its own network
// namespace, all plugged into one private bridge) for relay-play's integration tests. Each host runs
// Debian 12 (bookworm: OpenSSH 9.2, systemd 252) or Debian 13 (trixie: OpenSSH 10.0, systemd 257),
// chosen per host: a fleet may mix them, as real ones do.
//
// Host requirements (root, Linux). Apt packages the lab needs on the machine running the tests:
//
//     apt-get install -y debootstrap systemd-container openssh-client iproute2 nftables
//
// (nftables only for lab.setAway and lab.forwardPort; plus util-linux and coreutils for flock/mount/cp, which every
// Debian has). `.ci/run` installs them on CI; `labAvailable()` tells whether this machine can run a lab
// and why not.
//
// Layout:
//   /var/cache/relay-play-lab/<recipe-hash>/   one per release: the debootstrapped image (rootfs/) and the
//                                              runner's admin keypair (admin_ed25519{,.pub}; the lab uses
//                                              the first release's key for all hosts); built once, atomically
//                                              (built in <hash>.tmp-<pid>, renamed when complete) under
//                                              <hash>.lock (flock), so an interrupted build is never used.
//   /run/relay-play-lab/<prefix>.json          state of each live lab (owner pid, namespaces, mounts,
//                                              pids, temp dir); used by sweepStaleLabs() after a crash.
//   $TMPDIR/relay-play-lab-<prefix>-XXXXXX/    per-lab temp dir: per-host overlayfs (upper/work/merged),
//                                              console logs, and the runner's HOME (home/.ssh/known_hosts).
//
// Network (nothing routes anywhere else; the root namespace's networking is never touched):
//   netns <prefix>-br      bridge br0 198.18.0.1/24 + lo. The runner runs in here (lab.run / ip netns exec).
//   netns <prefix>-<name>  veth eth0 198.18.0.N/24 (N = 10, 11, ... in order of names), peer vhN in
//                          <prefix>-br enslaved to br0. No default routes, no NAT, IPv6 off on eth0/br0/veths
//                          (lo keeps ::1), no DHCP or other network services in the image.
//
// The runner's HOME (lab.home) holds .ssh/known_hosts. Note OpenSSH's `ssh` expands `~` from the passwd
// entry, not $HOME: an OpenSSH-based caller must pass `-o UserKnownHostsFile=<lab.home>/.ssh/known_hosts`
// (lab.exec does); libraries that read $HOME see it directly.
//
// Environment knobs: RELAY_PLAY_LAB_DEBUG=1 (progress on stderr), RELAY_PLAY_LAB_RELEASE (the release of
// hosts a test did not choose one for: bookworm, the default, or trixie), RELAY_PLAY_LAB_MIRROR (override
// the mirror read from apt sources), RELAY_PLAY_LAB_CACHE (override /var/cache/relay-play-lab),
// RELAY_PLAY_LAB_NO_OVERLAY=1 (force the copy fallback instead of overlayfs).
//
// Everything here uses node built-ins only.

import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// ───────────────────────────── public API ─────────────────────────────

/** Debian releases a lab host can run: 12 and 13. */
export const RELEASES = ['bookworm', 'trixie'] as const;
export type Release = (typeof RELEASES)[number];
/** The release of hosts nobody chose one for; RELAY_PLAY_LAB_RELEASE overrides it. */
export const DEFAULT_RELEASE: Release = (() => {
  const r = process.env.RELAY_PLAY_LAB_RELEASE;
  if (r === undefined || r === '') return 'bookworm';
  if (!(RELEASES as readonly string[]).includes(r))
    throw new Error(`RELAY_PLAY_LAB_RELEASE=${r}: want one of ${RELEASES.join(', ')}`);
  return r as Release;
})();

export interface LabHost {
  name: string;
  ip: string;
  netns: string;
  release: Release;
}
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}
export interface Lab {
  hosts: Record<string, LabHost>;
  /** netns holding the bridge 198.18.0.1/24: the runner must run in here */
  bridgeNs: string;
  /** 'admin' (NOPASSWD sudo, authorized key = adminKey) */
  adminUser: string;
  /** path of the runner's private key for admin (ed25519, no passphrase) */
  adminKey: string;
  /** fresh temp HOME for the runner, with .ssh/known_hosts pinning every host's ed25519 key by IP */
  home: string;
  inventoryHosts(): Record<
    string,
    { ansible_host: string; ansible_user: string; ansible_ssh_private_key_file: string }
  >;
  exec(
    host: string,
    command: string,
    opts?: { user?: string; timeoutMs?: number; input?: string },
  ): Promise<ExecResult>;
  run(
    argv: string[],
    opts?: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; input?: string },
  ): Promise<ExecResult>;
  reboot(host: string): Promise<void>;
  stop(host: string): Promise<void>;
  start(host: string): Promise<void>;
  setLink(host: string, up: boolean): Promise<void>;
  changeIp(host: string, newIp: string): Promise<void>;
  /**
   * Move a host "away" (behind NAT at a relative's house) or back home: away, its own firewall drops
   * every connection that does not start from it — nobody reaches its sshd any more, while its own
   * outbound connections (its tunnel to the relay) and whatever arrives through them still work.
   * lab.exec keeps working (it then logs in from inside the host's namespace, over loopback).
   */
  setAway(host: string, away: boolean): Promise<void>;
  /** Pin the host's ed25519 key again from its disk (after something on the host replaced it). */
  rereadHostKey(host: string): void;
  /**
   * First boot of a host started with the cloud-init image (StartLabOptions.cloudInit), from a NoCloud
   * seed holding `userData` (and a meta-data with a new instance-id): as an SD card with user-data.
   */
  bootFromCloudInit(host: string, userData: string, timeoutMs?: number): Promise<void>;
  /**
   * Put host behind a port forward: TCP arriving on its port `from` goes to its port `to` (an nftables
   * redirect in its namespace, as a router's forward of 2222 to 22 would). Sockets on the host see `to`.
   */
  forwardPort(host: string, from: number, to: number): Promise<void>;
  teardown(): Promise<void>;

  // Extras (additive, for tests and debugging):
  /** the unique prefix of this lab's namespaces / machines */
  prefix: string;
  /** the per-lab temp dir (overlays, console logs, home) */
  dir: string;
  /** pid of the running systemd-nspawn for host, undefined when stopped */
  nspawnPid(host: string): number | undefined;
  /** path of host's console log (boot messages) */
  consoleLog(host: string): string;
}

export interface StartLabOptions {
  /** namespace/machine prefix, default `rpl<random4>`: [a-z][a-z0-9]{1,11} */
  prefix?: string;
  /** overall boot timeout for all hosts (default 120 s) */
  bootTimeoutMs?: number;
  /**
   * Debian release of every host, or per host name (hosts not named get DEFAULT_RELEASE), e.g.
   * `{server: 'bookworm', rpi1: 'trixie'}`. Each release's image is built once and cached.
   */
  release?: Release | Record<string, Release>;
  /**
   * Hosts whose sshd is installed the way Fedora, RHEL, Arch and openSUSE name it: unit `sshd.service`
   * (no `ssh.service` at all) and the binary at /usr/bin/sshd. Done in the host's own overlay before its
   * first boot, so it costs no image build.
   */
  sshdNamedSshd?: string[];
  /**
   * Hosts booted from the release's image with cloud-init in it, and not booted by startLab: the test
   * boots each with lab.bootFromCloudInit(host, userData) once it has its user-data.
   */
  cloudInit?: string[];
}

/** Exit code ExecResult reports when timeoutMs expired (as timeout(1) does); stderr says so too. */
export const TIMEOUT_CODE = 124;

export const SUBNET = '198.18.0';
export const BRIDGE_IP = `${SUBNET}.1`;
export const FIRST_HOST_OCTET = 10;
export const ADMIN_USER = 'admin';
/** Image cache (outside the checkout); RELAY_PLAY_LAB_CACHE overrides it. */
export const CACHE_ROOT = process.env.RELAY_PLAY_LAB_CACHE || '/var/cache/relay-play-lab';
export const STATE_DIR = '/run/relay-play-lab';
/** systemd-nspawn's exit status when the container's init rebooted (systemd-nspawn@.service restarts on it). */
const NSPAWN_REBOOTED = 133;

const DEBUG = !!process.env.RELAY_PLAY_LAB_DEBUG;
function debug(msg: string): void {
  if (DEBUG) process.stderr.write(`[lab ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
}

// Child processes get sbin dirs on PATH even when the caller's PATH lacks them.
const CHILD_ENV: NodeJS.ProcessEnv = (() => {
  const parts = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const p of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (!parts.includes(p)) parts.push(p);
  }
  return { ...process.env, PATH: parts.join(':'), LC_ALL: 'C' };
})();

const REQUIRED_COMMANDS = [
  'debootstrap',
  'systemd-nspawn',
  'ssh',
  'ssh-keygen',
  'ip',
  'mount',
  'umount',
  'flock',
  'chroot',
  'cp',
  'rm',
];

function findCommand(cmd: string): string | undefined {
  for (const dir of (CHILD_ENV.PATH ?? '').split(':')) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Whether this machine can run a lab: root, Linux, and the commands present. */
export function labAvailable(): { ok: boolean; why?: string } {
  if (process.platform !== 'linux') return { ok: false, why: `needs Linux (this is ${process.platform})` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, why: 'needs root' };
  const missing = REQUIRED_COMMANDS.filter((c) => !findCommand(c));
  if (missing.length) {
    return {
      ok: false,
      why: `missing commands: ${missing.join(', ')} (apt-get install -y debootstrap systemd-container openssh-client iproute2)`,
    };
  }
  if (!fs.existsSync('/proc/self/ns/net')) return { ok: false, why: 'no network namespace support' };
  return { ok: true };
}

// ───────────────────────────── small process helpers ─────────────────────────────

function sh(
  cmd: string,
  args: string[],
  opts: { input?: string; allowFail?: boolean; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    env: CHILD_ENV,
    encoding: 'utf8',
    input: opts.input,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!opts.allowFail && (r.error || r.status !== 0)) {
    const why = r.error ? String(r.error) : `exit ${r.status ?? r.signal}`;
    throw new Error(`${cmd} ${args.join(' ')}: ${why}\n${(r.stderr ?? '').trim()}`);
  }
  return r;
}

function runProcess(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, {
        env: opts.env ?? CHILD_ENV,
        cwd: opts.cwd,
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
    } catch (e) {
      resolve({ code: 127, stdout: '', stderr: String(e) });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    const finish = (code: number, extraErr = ''): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      let stderr = Buffer.concat(err).toString('utf8') + extraErr;
      if (timedOut) {
        code = TIMEOUT_CODE;
        stderr += `\n[lab] ${cmd} timed out after ${opts.timeoutMs} ms`;
      }
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr });
    };
    child.on('error', (e) => finish(127, String(e)));
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {
        /* remote closed early: fine */
      });
      child.stdin!.end(opts.input);
    }
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** /proc/<pid>/stat fields after the comm: [state, ppid, ..., starttime at index 19]. */
function procStat(pid: number): string[] | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie (a killed child we have not reaped yet counts as dead). */
function pidAlive(pid: number, startTime?: string): boolean {
  const st = procStat(pid);
  if (!st || st[0] === 'Z' || st[0] === 'X') return false;
  return startTime === undefined || st[19] === startTime;
}

function pidStartTime(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

function cmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

function kill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

function rmTree(p: string): void {
  // --one-file-system: never descend into something still mounted below p.
  if (fs.existsSync(p)) sh('rm', ['-rf', '--one-file-system', p], { allowFail: true, timeoutMs: 300_000 });
}

function mountPointsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  let text = '';
  try {
    text = fs.readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    /* none */
  }
  const unescape = (s: string): string =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .map((l) => unescape(l.split(' ')[1] ?? ''))
    .filter((m) => m === dir || m.startsWith(prefix))
    .sort((a, b) => b.length - a.length); // deepest first
}

function unmountAllUnder(dir: string): void {
  for (const m of mountPointsUnder(dir)) {
    const r = sh('umount', [m], { allowFail: true });
    if (r.status !== 0) sh('umount', ['-l', m], { allowFail: true });
  }
}

/** SIGKILL every process whose root, cwd or command line is inside dir (e.g. an orphaned debootstrap). */
function killProcessesUsing(dir: string): void {
  const inside = (p: string): boolean => p === dir || p.startsWith(dir + '/');
  for (let round = 0; round < 50; round++) {
    const victims: number[] = [];
    for (const e of fs.readdirSync('/proc')) {
      const pid = Number(e);
      if (!pid || pid === process.pid) continue;
      let hit = cmdline(pid).some((a) => a.includes(dir));
      for (const l of ['root', 'cwd']) {
        if (hit) break;
        try {
          hit = inside(fs.readlinkSync(`/proc/${pid}/${l}`));
        } catch {
          /* gone or kernel thread */
        }
      }
      if (hit && pidAlive(pid)) victims.push(pid);
    }
    if (!victims.length) return;
    debug(`killing ${victims.length} process(es) still using ${dir}`);
    for (const pid of victims) kill(pid, 'SIGKILL');
    sleepSync(100);
  }
}

function netnsList(): string[] {
  const r = sh('ip', ['netns', 'list'], { allowFail: true });
  return (r.stdout ?? '')
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
}

function netnsPids(ns: string): number[] {
  const r = sh('ip', ['netns', 'pids', ns], { allowFail: true });
  return (r.stdout ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => n > 1);
}

// ───────────────────────────── image ─────────────────────────────

const INCLUDE = [
  'systemd',
  'systemd-sysv',
  'openssh-server',
  'openssh-client',
  'sudo',
  'dbus',
  'iproute2',
  'libnss-myhostname',
  'python3',
  'netbase',
  // HTTP(S) from a host: the relay's tunnel watcher posts its webhooks with curl.
  'curl',
  'ca-certificates',
  // Debian's node_exporter, masked below: a test unmasks it on the relay and scrapes the watcher's metrics.
  'prometheus-node-exporter',
];
/** Bump when the image fixes below change in a way the texts don't capture. */
const RECIPE_VERSION = 4;

const SSH_DROPIN = `# relay-play lab: every host generates its own host keys at first boot
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
`;
const ETC_HOSTS = `127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
`;
const RESOLV_CONF = `# relay-play lab: isolated network, no DNS
options timeout:1 attempts:1
`;
/** Units that would try DHCP / reach outside / wait on a console in an isolated container. */
const MASKED_UNITS = [
  'systemd-networkd.service',
  'systemd-networkd.socket',
  'systemd-networkd-wait-online.service',
  'systemd-resolved.service',
  'systemd-timesyncd.service',
  'networking.service',
  'ifupdown-wait-online.service',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'apt-daily.service',
  'apt-daily-upgrade.service',
  'systemd-firstboot.service',
  'e2scrub_all.timer',
  'e2scrub_reap.service',
  'fstrim.timer',
  'man-db.timer',
  'dpkg-db-backup.timer',
  'console-getty.service',
  // Installed (INCLUDE) but started only by the test that needs it.
  'prometheus-node-exporter.service',
];

/** What an image is built from; its hash names the cached image, so each release has its own. */
// A host that first boots from a cloud-init seed (Raspberry Pi OS / cloud images): cloud-init, and
// python3-cffi-backend without which debootstrap leaves python3-cryptography (and cloud-init) unconfigured.
const CLOUD_INIT_INCLUDE = ['cloud-init', 'python3-cffi-backend'];
const CLOUD_INIT_CFG =
  '# relay-play lab: the seed in /var/lib/cloud/seed/nocloud (lab.bootFromCloudInit)\ndatasource_list: [NoCloud, None]\n';

function recipe(release: Release, cloudInit = false): Record<string, unknown> {
  return {
    version: RECIPE_VERSION,
    suite: release,
    variant: 'minbase',
    include: cloudInit ? [...INCLUDE, ...CLOUD_INIT_INCLUDE] : INCLUDE,
    admin: ADMIN_USER,
    sshDropin: SSH_DROPIN,
    hosts: ETC_HOSTS,
    resolv: RESOLV_CONF,
    masked: MASKED_UNITS,
    ...(cloudInit ? { cloudInit: CLOUD_INIT_CFG } : {}),
  };
}

export function recipeHash(release: Release = DEFAULT_RELEASE, cloudInit = false): string {
  return crypto
    .createHash('sha256')
    .update(JSON.stringify(recipe(release, cloudInit)))
    .digest('hex')
    .slice(0, 16);
}

/** The Debian mirror of this machine's own apt sources (deb822 .sources `URIs:` or sources.list `deb`). */
export function debianMirror(): string {
  if (process.env.RELAY_PLAY_LAB_MIRROR) return process.env.RELAY_PLAY_LAB_MIRROR;
  const candidates: { uri: string; suites: string[] }[] = [];
  const dir = '/etc/apt/sources.list.d';
  let files: string[] = [];
  try {
    files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.sources'))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    /* none */
  }
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (name: string): string[] => {
        const m = stanza.match(new RegExp(`^${name}:\\s*(.*)$`, 'mi'));
        return m ? m[1].trim().split(/\s+/) : [];
      };
      if (field('Enabled')[0]?.toLowerCase() === 'no') continue;
      if (field('Types').length && !field('Types').includes('deb')) continue;
      for (const uri of field('URIs')) candidates.push({ uri, suites: field('Suites') });
    }
  }
  let listFiles: string[] = [];
  try {
    listFiles = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.list'))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    /* none */
  }
  for (const f of ['/etc/apt/sources.list', ...listFiles]) {
    let text = '';
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const m = line.trim().match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/);
      if (m) candidates.push({ uri: m[1], suites: [m[2]] });
    }
  }
  const usable = candidates.filter((c) => /^https?:\/\//.test(c.uri));
  // Prefer the main archive (a suite that is a plain release name, not -security/-updates).
  const main = usable.find((c) => c.suites.some((s) => /^[a-z]+$/.test(s)) && !/security/.test(c.uri));
  const pick = main ?? usable.find((c) => !/security/.test(c.uri));
  if (!pick) throw new Error('no Debian mirror found in /etc/apt/sources.list(.d); set RELAY_PLAY_LAB_MIRROR');
  return pick.uri;
}

export interface LabImage {
  release: Release;
  cloudInit: boolean;
  dir: string;
  rootfs: string;
  adminKey: string;
  adminPub: string;
}

function imagePaths(release: Release, cloudInit: boolean, hash = recipeHash(release, cloudInit)): LabImage {
  const dir = path.join(CACHE_ROOT, hash);
  return {
    release,
    cloudInit,
    dir,
    rootfs: path.join(dir, 'rootfs'),
    adminKey: path.join(dir, 'admin_ed25519'),
    adminPub: path.join(dir, 'admin_ed25519.pub'),
  };
}

/** Images are cached per release, and per release with cloud-init. */
const imageKey = (release: Release, cloudInit: boolean): string => `${release}${cloudInit ? '+cloud-init' : ''}`;

function imageComplete(img: LabImage): boolean {
  return (
    fs.existsSync(path.join(img.dir, 'recipe.json')) &&
    fs.existsSync(path.join(img.rootfs, 'usr/lib/os-release')) &&
    fs.existsSync(img.adminKey)
  );
}

/** Hold an exclusive flock on lockPath while fn runs (released by the kernel if we die). */
async function withLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  const holder = spawn('flock', ['-x', lockPath, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    env: CHILD_ENV,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waitingNote = setTimeout(
    () => process.stderr.write(`[lab] waiting for ${lockPath} (another process is building the image)\n`),
    3000,
  );
  try {
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.once('data', () => resolve());
      holder.once('error', reject);
      holder.once('exit', (c) => reject(new Error(`flock ${lockPath} exited ${c}`)));
    });
  } finally {
    clearTimeout(waitingNote);
  }
  try {
    return await fn();
  } finally {
    holder.stdin!.end();
  }
}

/** Build (once) and return the cached image of a Debian release and its admin keypair. */
export async function ensureImage(
  release: Release = DEFAULT_RELEASE,
  opts: { cloudInit?: boolean } = {},
): Promise<LabImage> {
  const cloudInit = Boolean(opts.cloudInit);
  const hash = recipeHash(release, cloudInit);
  const img = imagePaths(release, cloudInit, hash);
  if (imageComplete(img)) return img;
  return withLock(path.join(CACHE_ROOT, `${hash}.lock`), async () => {
    if (imageComplete(img)) return img; // someone else built it while we waited
    // Leftovers of interrupted builds (we hold the lock, so none of them is in progress).
    for (const e of fs.readdirSync(CACHE_ROOT)) {
      if (e === hash || e.startsWith(`${hash}.tmp-`)) {
        const p = path.join(CACHE_ROOT, e);
        if (!fs.statSync(p).isDirectory()) continue;
        process.stderr.write(`[lab] removing interrupted image build ${p}\n`);
        killProcessesUsing(p);
        unmountAllUnder(p);
        rmTree(p);
      }
    }
    const tmp = path.join(CACHE_ROOT, `${hash}.tmp-${process.pid}`);
    const t0 = Date.now();
    fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
    const timg: LabImage = {
      ...img,
      dir: tmp,
      rootfs: path.join(tmp, 'rootfs'),
      adminKey: path.join(tmp, 'admin_ed25519'),
      adminPub: path.join(tmp, 'admin_ed25519.pub'),
    };
    try {
      const mirror = debianMirror();
      process.stderr.write(
        `[lab] building Debian ${imageKey(release, cloudInit)} image ${hash} from ${mirror} (once; ~1-2 min)\n`,
      );
      const logPath = path.join(tmp, 'build.log');
      const log = fs.openSync(logPath, 'w');
      const include = cloudInit ? [...INCLUDE, ...CLOUD_INIT_INCLUDE] : INCLUDE;
      const args = ['--variant=minbase', `--include=${include.join(',')}`, release, timg.rootfs, mirror];
      installExitHandlers();
      const code = await new Promise<number>((resolve) => {
        // Own process group, so our exit/signal handlers can kill debootstrap and all its children.
        const p = spawn('debootstrap', args, { env: CHILD_ENV, stdio: ['ignore', log, log], detached: true });
        if (p.pid) activeBuilds.add(p.pid);
        p.on('error', () => resolve(127));
        p.on('exit', (c) => {
          if (p.pid) activeBuilds.delete(p.pid);
          resolve(c ?? 1);
        });
      });
      fs.closeSync(log);
      if (code !== 0) {
        const tail = fs.readFileSync(logPath, 'utf8').split('\n').slice(-30).join('\n');
        throw new Error(`debootstrap failed (exit ${code}); log ${logPath}:\n${tail}`);
      }
      sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'relay-play-lab-runner', '-f', timg.adminKey]);
      applyImageFixes(timg.rootfs, fs.readFileSync(timg.adminPub, 'utf8').trim(), hash);
      if (cloudInit) {
        fs.mkdirSync(path.join(timg.rootfs, 'etc/cloud/cloud.cfg.d'), { recursive: true });
        fs.writeFileSync(path.join(timg.rootfs, 'etc/cloud/cloud.cfg.d/90-relay-play-lab.cfg'), CLOUD_INIT_CFG);
      }
      unmountAllUnder(tmp); // debootstrap should have unmounted /proc etc.; make sure
      fs.writeFileSync(
        path.join(tmp, 'recipe.json'),
        JSON.stringify({ ...recipe(release, cloudInit), mirror, builtAt: new Date().toISOString() }, null, 2),
      );
      fs.renameSync(tmp, img.dir);
      process.stderr.write(`[lab] image ready in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${img.dir}\n`);
      return img;
    } catch (e) {
      unmountAllUnder(tmp);
      rmTree(tmp);
      throw e;
    }
  });
}

function applyImageFixes(root: string, adminPub: string, hash: string): void {
  const p = (rel: string): string => path.join(root, rel);
  const chroot = (...args: string[]): void => void sh('chroot', [root, ...args]);

  // Every host generates its own host keys at first boot (they then persist in its overlay).
  for (const f of fs.readdirSync(p('etc/ssh'))) {
    if (f.startsWith('ssh_host_')) fs.rmSync(p(`etc/ssh/${f}`), { force: true });
  }
  fs.mkdirSync(p('etc/systemd/system/ssh.service.d'), { recursive: true });
  fs.writeFileSync(p('etc/systemd/system/ssh.service.d/10-relay-play-lab.conf'), SSH_DROPIN);
  // Hostname comes from nspawn --hostname.
  fs.rmSync(p('etc/hostname'), { force: true });
  // Per-host machine-id, generated at first boot and committed into the host's overlay.
  fs.writeFileSync(p('etc/machine-id'), '');
  fs.rmSync(p('var/lib/dbus/machine-id'), { force: true });
  fs.mkdirSync(p('var/lib/dbus'), { recursive: true });
  fs.symlinkSync('/etc/machine-id', p('var/lib/dbus/machine-id'));

  fs.writeFileSync(p('etc/hosts'), ETC_HOSTS);
  fs.rmSync(p('etc/resolv.conf'), { force: true });
  fs.writeFileSync(p('etc/resolv.conf'), RESOLV_CONF);
  const nss = fs.readFileSync(p('etc/nsswitch.conf'), 'utf8');
  const nssFixed = /^hosts:/m.test(nss)
    ? nss.replace(/^hosts:.*$/m, 'hosts:          files myhostname dns')
    : nss + 'hosts:          files myhostname dns\n';
  fs.writeFileSync(p('etc/nsswitch.conf'), nssFixed);

  // systemd creates /run/nologin at boot and systemd-user-sessions removes it; on a loaded machine
  // that unit has failed now and then, leaving /run/nologin behind and admin locked out for good
  // (sshd answers, pam_nologin refuses). A lab host has no reason to keep users out while booting.
  fs.mkdirSync(p('etc/tmpfiles.d'), { recursive: true });
  fs.writeFileSync(
    p('etc/tmpfiles.d/systemd-nologin.conf'),
    '# relay-play lab: no /run/nologin while booting (see test/lab/index.ts)\n',
  );

  chroot('systemctl', 'enable', 'ssh.service');
  for (const u of MASKED_UNITS) sh('chroot', [root, 'systemctl', 'mask', u], { allowFail: true });

  // The runner's admin: key login, passwordless sudo. '*' (not '!') so sshd never treats it as locked.
  chroot('useradd', '--create-home', '--shell', '/bin/bash', '--user-group', ADMIN_USER);
  chroot('usermod', '-p', '*', ADMIN_USER);
  fs.writeFileSync(p(`etc/sudoers.d/${ADMIN_USER}`), `${ADMIN_USER} ALL=(ALL) NOPASSWD:ALL\n`, { mode: 0o440 });
  fs.chmodSync(p(`etc/sudoers.d/${ADMIN_USER}`), 0o440);
  const pw = fs
    .readFileSync(p('etc/passwd'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${ADMIN_USER}:`));
  if (!pw) throw new Error('useradd did not create admin');
  const [, , uid, gid, , home] = pw.split(':');
  const sshDir = p(`${home}/.ssh`);
  fs.mkdirSync(sshDir, { mode: 0o700 });
  fs.writeFileSync(path.join(sshDir, 'authorized_keys'), adminPub + '\n', { mode: 0o600 });
  for (const f of [sshDir, path.join(sshDir, 'authorized_keys')]) fs.chownSync(f, Number(uid), Number(gid));

  // Smaller image, no stale package lists pointing at the build mirror's state.
  sh('chroot', [root, 'apt-get', 'clean'], { allowFail: true });
  fs.writeFileSync(p('etc/relay-play-lab'), `relay-play lab image ${hash}\n`);
}

/** Let the lab's admin key in too (a host booted from another release's image trusts that image's key). */
function authorizeAdmin(root: string, adminPub: string): void {
  const pw = fs
    .readFileSync(path.join(root, 'etc/passwd'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${ADMIN_USER}:`));
  if (!pw) throw new Error(`no ${ADMIN_USER} in ${root}/etc/passwd`);
  const [, , uid, gid, , home] = pw.split(':');
  const file = path.join(root, home, '.ssh/authorized_keys');
  const keys = fs.readFileSync(file, 'utf8');
  if (!keys.split('\n').includes(adminPub)) fs.appendFileSync(file, adminPub + '\n');
  fs.chownSync(file, Number(uid), Number(gid));
}

/**
 * sshd as Fedora, RHEL, Arch and openSUSE install it: the unit is sshd.service — there is no
 * ssh.service, not even as an alias — and the binary is /usr/bin/sshd. Debian's unit, renamed and
 * re-pointed, written into the host's own root (its overlay), so the image stays shared.
 */
function renameSshd(root: string): void {
  const p = (rel: string): string => path.join(root, rel);
  const units = 'usr/lib/systemd/system';
  const toBin = (text: string): string => text.replace(/\/usr\/sbin\/sshd\b/g, '/usr/bin/sshd');
  const unit = toBin(fs.readFileSync(p(`${units}/ssh.service`), 'utf8')).replace(/^Alias=.*\n/m, '');
  fs.writeFileSync(p(`${units}/sshd.service`), unit);
  for (const f of ['ssh.service', 'ssh.socket', 'ssh@.service']) fs.rmSync(p(`${units}/${f}`), { force: true });
  // Debian's alias link and its enablement; then the same for the new name.
  fs.rmSync(p('etc/systemd/system/sshd.service'), { force: true });
  fs.rmSync(p('etc/systemd/system/multi-user.target.wants/ssh.service'), { force: true });
  fs.symlinkSync(`/${units}/sshd.service`, p('etc/systemd/system/multi-user.target.wants/sshd.service'));
  fs.mkdirSync(p('etc/systemd/system/sshd.service.d'), { recursive: true });
  fs.writeFileSync(p('etc/systemd/system/sshd.service.d/10-relay-play-lab.conf'), toBin(SSH_DROPIN));
  for (const d of ['ssh.service.d', 'ssh.service.wants', 'ssh.socket.wants'])
    fs.rmSync(p(`etc/systemd/system/${d}`), { recursive: true, force: true });
  fs.renameSync(p('usr/sbin/sshd'), p('usr/bin/sshd'));
  // Debian's SysV script would make systemd generate an ssh.service from it.
  fs.rmSync(p('etc/init.d/ssh'), { force: true });
}

// ───────────────────────────── state files & sweeping ─────────────────────────────

interface LabState {
  prefix: string;
  ownerPid: number;
  ownerStart?: string;
  dir: string;
  netns: string[];
  mounts: string[];
  machines: string[];
  pids: { pid: number; start?: string }[];
}

function statePath(prefix: string): string {
  return path.join(STATE_DIR, `${prefix}.json`);
}

function writeState(s: LabState): void {
  fs.mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  const tmp = `${statePath(s.prefix)}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(s, null, 2));
  fs.renameSync(tmp, statePath(s.prefix));
}

const DEFAULT_PREFIX_RE = /^rpl[a-z0-9]{4}$/;

/** Kill the container in netns ns (all its processes; PID 1 of its pid namespace first). */
function killNetnsProcesses(ns: string): void {
  for (let i = 0; i < 20; i++) {
    const pids = netnsPids(ns);
    if (!pids.length) return;
    for (const pid of pids) kill(pid, 'SIGKILL');
    sleepSync(50);
  }
}

function cleanupState(s: LabState): void {
  debug(`cleaning up lab ${s.prefix}`);
  // Containers: their processes live in the host namespaces; killing them makes nspawn exit.
  for (const ns of s.netns) if (netnsList().includes(ns)) killNetnsProcesses(ns);
  for (const { pid, start } of s.pids) {
    if (!pidAlive(pid, start)) continue;
    if (!cmdline(pid).some((a) => a.includes('systemd-nspawn'))) continue;
    kill(pid, 'SIGTERM');
  }
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && s.pids.some(({ pid, start }) => pidAlive(pid, start))) sleepSync(50);
  for (const { pid, start } of s.pids) if (pidAlive(pid, start)) kill(pid, 'SIGKILL');
  for (const m of s.mounts) {
    if (mountPointsUnder(m).length) unmountAllUnder(m);
  }
  if (s.dir) unmountAllUnder(s.dir);
  for (const ns of s.netns) {
    if (netnsList().includes(ns)) {
      killNetnsProcesses(ns);
      sh('ip', ['netns', 'del', ns], { allowFail: true });
    }
  }
  for (const m of s.machines) {
    const d = `/run/systemd/nspawn/propagate/${m}`;
    if (fs.existsSync(d) && !mountPointsUnder(d).length) fs.rmSync(d, { recursive: true, force: true });
  }
  if (s.dir && path.basename(s.dir).startsWith('relay-play-lab-')) rmTree(s.dir);
  fs.rmSync(statePath(s.prefix), { force: true });
}

/**
 * Remove leftovers of earlier crashed runs: every lab whose state file's owner process is dead
 * (its nspawns, container processes, overlay mounts, namespaces and temp dir), and namespaces with
 * the default prefix pattern (`rplXXXX-...`) that no state file accounts for. Returns the prefixes swept.
 */
export function sweepStaleLabs(): string[] {
  const swept: string[] = [];
  const known = new Set<string>();
  // Namespaces first, state files second: a lab writes its state file before creating any namespace,
  // so every namespace listed here that belongs to a live lab is accounted for by a file read below.
  const namespaces = netnsList();
  let files: string[] = [];
  try {
    files = fs.readdirSync(STATE_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    /* none */
  }
  for (const f of files) {
    let s: LabState;
    try {
      s = JSON.parse(fs.readFileSync(path.join(STATE_DIR, f), 'utf8')) as LabState;
    } catch {
      continue; // being written (we rename atomically, so unlikely) or foreign
    }
    known.add(s.prefix);
    if (pidAlive(s.ownerPid, s.ownerStart)) continue;
    cleanupState(s);
    swept.push(s.prefix);
  }
  const orphans = new Map<string, string[]>();
  for (const ns of namespaces) {
    const prefix = ns.split('-')[0];
    if (!DEFAULT_PREFIX_RE.test(prefix) || known.has(prefix) || !ns.includes('-')) continue;
    orphans.set(prefix, [...(orphans.get(prefix) ?? []), ns]);
  }
  for (const [prefix, netns] of orphans) {
    cleanupState({ prefix, ownerPid: 0, dir: '', netns, mounts: [], machines: [], pids: [] });
    swept.push(prefix);
  }
  if (swept.length) process.stderr.write(`[lab] swept stale labs: ${swept.join(', ')}\n`);
  return swept;
}

// ───────────────────────────── the lab ─────────────────────────────

interface HostRt {
  name: string;
  release: Release;
  sshdNamedSshd: boolean;
  /** Booted only by bootFromCloudInit, from the cloud-init image. */
  cloudInit: boolean;
  ip: string;
  netns: string;
  machine: string;
  veth: string;
  root: string; // what nspawn boots: overlay merged dir (or a copy)
  upper?: string;
  /** Behind its "NAT" (setAway): reachable only over its own loopback. */
  away?: boolean;
  log: string;
  proc?: ChildProcess;
  pid?: number;
  exited?: Promise<void>;
  /** lab.stop is powering it off: its nspawn's exit is no reboot to follow. */
  stopping?: boolean;
}

const liveLabs = new Set<LabImpl>();
/** process-group ids of running debootstraps */
const activeBuilds = new Set<number>();
let handlersInstalled = false;

function cleanupOnExit(): void {
  for (const pgid of activeBuilds) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  activeBuilds.clear();
  for (const lab of [...liveLabs]) lab.teardownSync();
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupOnExit);
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanupOnExit();
    process.removeListener(sig, onSignal);
    // Nobody else handles it: behave as the default (die by the signal).
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]) process.on(sig, onSignal);
}

function ipOctet(ip: string): number {
  const m = ip.match(/^198\.18\.0\.(\d{1,3})$/);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 2 && n <= 254)) throw new Error(`lab addresses must be 198.18.0.2-254, got ${ip}`);
  return n;
}

class LabImpl implements Lab {
  hosts: Record<string, LabHost> = {};
  bridgeNs: string;
  adminUser = ADMIN_USER;
  adminKey: string;
  home: string;
  prefix: string;
  dir: string;
  private rt = new Map<string, HostRt>();
  private state: LabState;
  private tornDown = false;
  private knownHostsPath: string;

  constructor(prefix: string, dir: string, img: LabImage) {
    this.prefix = prefix;
    this.dir = dir;
    this.bridgeNs = `${prefix}-br`;
    this.adminKey = img.adminKey;
    this.home = path.join(dir, 'home');
    this.knownHostsPath = path.join(this.home, '.ssh', 'known_hosts');
    this.state = {
      prefix,
      ownerPid: process.pid,
      ownerStart: pidStartTime(process.pid),
      dir,
      netns: [],
      mounts: [],
      machines: [],
      pids: [],
    };
  }

  // ── setup ──

  saveState(): void {
    this.state.pids = [...this.rt.values()]
      .filter((h) => h.pid)
      .map((h) => ({ pid: h.pid!, start: pidStartTime(h.pid!) }));
    if (!this.tornDown) writeState(this.state);
  }

  setupHome(): void {
    fs.mkdirSync(path.join(this.home, '.ssh'), { recursive: true, mode: 0o700 });
    fs.chmodSync(this.home, 0o700);
    fs.chmodSync(path.join(this.home, '.ssh'), 0o700);
    fs.writeFileSync(this.knownHostsPath, '', { mode: 0o600 });
  }

  setupBridge(): void {
    const br = this.bridgeNs;
    this.state.netns.push(br);
    this.saveState();
    sh('ip', ['netns', 'add', br]);
    // IPv6 off for every interface created from now on (lo keeps ::1): only 198.18.0.0/24 exists here.
    disableIpv6Default(br);
    sh('ip', ['-n', br, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', br, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    sh('ip', ['-n', br, 'addr', 'add', `${BRIDGE_IP}/24`, 'dev', 'br0']);
    sh('ip', ['-n', br, 'link', 'set', 'br0', 'up']);
  }

  setupHostNet(h: HostRt): void {
    this.state.netns.push(h.netns);
    this.saveState();
    sh('ip', ['netns', 'add', h.netns]);
    disableIpv6Default(h.netns);
    sh('ip', ['-n', h.netns, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', this.bridgeNs, 'link', 'add', h.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns]);
    sh('ip', ['-n', this.bridgeNs, 'link', 'set', h.veth, 'master', 'br0', 'up']);
    sh('ip', ['-n', h.netns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
    sh('ip', ['-n', h.netns, 'link', 'set', 'eth0', 'up']);
  }

  setupRoot(h: HostRt, img: LabImage): void {
    this.mountRoot(h, img);
    // Every image trusts its own admin key; the lab logs in everywhere with one (the first host's image's).
    if (img.adminKey !== this.adminKey) authorizeAdmin(h.root, fs.readFileSync(`${this.adminKey}.pub`, 'utf8').trim());
    if (h.sshdNamedSshd) renameSshd(h.root);
  }

  private mountRoot(h: HostRt, img: LabImage): void {
    const base = path.join(this.dir, 'hosts', h.name);
    const upper = path.join(base, 'upper');
    const work = path.join(base, 'work');
    const merged = path.join(base, 'merged');
    for (const d of [upper, work, merged]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
    this.state.mounts.push(merged);
    this.saveState();
    const r = process.env.RELAY_PLAY_LAB_NO_OVERLAY
      ? { status: 1, stderr: 'RELAY_PLAY_LAB_NO_OVERLAY set' }
      : sh(
          'mount',
          [
            '-t',
            'overlay',
            `relay-play-lab-${h.machine}`,
            '-o',
            `lowerdir=${img.rootfs},upperdir=${upper},workdir=${work}`,
            merged,
          ],
          { allowFail: true },
        );
    if (r.status === 0) {
      h.root = merged;
      h.upper = upper;
      return;
    }
    // Fallback when overlayfs cannot be mounted here (e.g. /tmp on a filesystem overlayfs refuses as
    // upper dir): a private copy of the image per host. Slower to set up and ~300 MB per host, but
    // changes persist across reboot the same way.
    process.stderr.write(
      `[lab] overlayfs mount failed (${(r.stderr ?? '').trim()}); copying the image for ${h.name}\n`,
    );
    const copy = path.join(base, 'rootfs');
    sh('cp', ['-a', '--reflink=auto', img.rootfs, copy], { timeoutMs: 600_000 });
    h.root = copy;
  }

  // ── boot ──

  bootHost(h: HostRt): void {
    const log = fs.openSync(h.log, 'a');
    fs.writeSync(log, `\n===== [lab] boot ${new Date().toISOString()} =====\n`);
    const args = [
      '-q',
      '-D',
      h.root,
      '--register=no',
      '--keep-unit',
      '-b',
      // machine name is unique per lab (nspawn keys /run/systemd/nspawn/propagate/<machine> on it);
      // the container's hostname is the plain lab name.
      `--machine=${h.machine}`,
      `--hostname=${h.name}`,
      `--network-namespace-path=/run/netns/${h.netns}`,
      '--resolv-conf=off',
      '--link-journal=no',
      '--console=read-only',
    ];
    debug(`${h.name}: systemd-nspawn ${args.join(' ')}`);
    const proc = spawn('systemd-nspawn', args, { env: CHILD_ENV, stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    proc.unref();
    h.proc = proc;
    h.pid = proc.pid;
    h.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        debug(`${h.name}: systemd-nspawn exited (${code ?? signal})`);
        resolve();
        if (code === NSPAWN_REBOOTED) this.rebooted(h);
      });
      proc.once('error', () => resolve());
    });
    this.state.machines = [...new Set([...this.state.machines, h.machine])];
    this.saveState();
  }

  /**
   * The host rebooted itself (its init asked for it, so nspawn exited with 133): boot it again, from its
   * own overlay, as a machine comes back up after `reboot`. Nobody waits for it; the lab only pins its
   * host key again once it is up (unchanged: it persists in the overlay).
   */
  private rebooted(h: HostRt): void {
    if (this.tornDown || h.stopping) return;
    debug(`${h.name}: rebooted itself; booting it again`);
    this.bootHost(h);
    this.waitReady(h, 120_000).catch((e: Error) => debug(`${h.name}: after its reboot: ${e.message}`));
  }

  private running(h: HostRt): boolean {
    return !!h.proc && h.proc.exitCode === null && h.proc.signalCode === null && !!h.pid && pidAlive(h.pid);
  }

  private bootFailure(h: HostRt, why: string): Error {
    let tail = '';
    try {
      tail = fs.readFileSync(h.log, 'utf8').split('\n').slice(-25).join('\n');
    } catch {
      /* none */
    }
    return new Error(`lab host ${h.name} (${h.ip}): ${why}\n--- ${h.log} (tail) ---\n${tail}`);
  }

  /** The host's ed25519 public host key, read from its root on disk (written by ssh-keygen -A at boot). */
  private readHostKey(h: HostRt): string | undefined {
    const f = path.join(h.root, 'etc/ssh/ssh_host_ed25519_key.pub');
    try {
      if (!fs.lstatSync(f).isFile()) return undefined; // never follow a symlink out of the container
      const m = fs.readFileSync(f, 'utf8').match(/^(ssh-ed25519 [A-Za-z0-9+/]+=*)/);
      return m?.[1];
    } catch {
      return undefined;
    }
  }

  private hostKeys = new Map<string, string>();

  async bootFromCloudInit(host: string, userData: string, timeoutMs = 180_000): Promise<void> {
    const h = this.host(host);
    if (!h.cloudInit)
      throw new Error(`${host} was not started with the cloud-init image (startLab's cloudInit option)`);
    if (this.running(h)) throw new Error(`${host} is running already`);
    const seed = path.join(h.root, 'var/lib/cloud/seed/nocloud');
    fs.mkdirSync(seed, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(seed, 'user-data'), userData, { mode: 0o600 });
    fs.writeFileSync(
      path.join(seed, 'meta-data'),
      `instance-id: ${this.prefix}-${h.name}-${Date.now()}\nlocal-hostname: ${h.name}\n`,
      { mode: 0o600 },
    );
    this.bootHost(h);
    await this.waitReady(h, timeoutMs);
  }

  rereadHostKey(host: string): void {
    const h = this.host(host);
    const key = this.readHostKey(h);
    if (!key) throw new Error(`${host} has no ed25519 host key on disk`);
    this.hostKeys.set(h.name, key);
    this.writeKnownHosts();
  }

  private writeKnownHosts(): void {
    const lines = [...this.rt.values()]
      .filter((h) => this.hostKeys.has(h.name))
      .map((h) => `${h.ip} ${this.hostKeys.get(h.name)}`);
    const tmp = `${this.knownHostsPath}.tmp`;
    fs.writeFileSync(tmp, lines.join('\n') + (lines.length ? '\n' : ''), { mode: 0o600 });
    fs.renameSync(tmp, this.knownHostsPath);
  }

  private async waitReady(h: HostRt, timeoutMs: number): Promise<void> {
    const t0 = Date.now();
    const deadline = t0 + timeoutMs;
    // 1) host key on disk (ssh.service's ExecStartPre has run)
    for (;;) {
      if (!this.running(h)) throw this.bootFailure(h, 'systemd-nspawn exited during boot');
      const key = this.readHostKey(h);
      if (key) {
        if (this.hostKeys.get(h.name) !== key) {
          this.hostKeys.set(h.name, key);
          this.writeKnownHosts();
        }
        break;
      }
      if (Date.now() > deadline) throw this.bootFailure(h, `no host key after ${timeoutMs} ms`);
      await sleep(100);
    }
    debug(`${h.name}: host key after ${Date.now() - t0} ms`);
    // 2) sshd answers and systemd finished booting
    let last: ExecResult | undefined;
    for (;;) {
      if (!this.running(h)) throw this.bootFailure(h, 'systemd-nspawn exited during boot');
      const left = deadline - Date.now();
      if (left <= 0) throw this.bootFailure(h, `not ready after ${timeoutMs} ms; last ssh: ${JSON.stringify(last)}`);
      last = await this.ssh(h, this.adminUser, 'systemctl is-system-running --wait', {
        timeoutMs: Math.min(left, 60_000),
        connectTimeout: 2,
      });
      const state = last.stdout.trim().split('\n').pop();
      if (state === 'running' || state === 'degraded') {
        debug(`${h.name}: ${state} after ${Date.now() - t0} ms`);
        if (state === 'degraded' && DEBUG) {
          const f = await this.ssh(h, this.adminUser, 'systemctl --failed --no-legend', {});
          debug(`${h.name}: failed units: ${f.stdout.trim()}`);
        }
        return;
      }
      if (last.code !== 255) throw this.bootFailure(h, `system state ${JSON.stringify(state)} (${last.stderr.trim()})`);
      await sleep(200);
    }
  }

  // ── commands ──

  private sshArgs(h: HostRt, user: string, connectTimeout: number): string[] {
    return [
      // An away host is entered from its own namespace (its firewall lets loopback through).
      'netns',
      'exec',
      h.away ? h.netns : this.bridgeNs,
      'ssh',
      '-F',
      '/dev/null',
      '-i',
      this.adminKey,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${this.knownHostsPath}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'CheckHostIP=no',
      '-o',
      `ConnectTimeout=${connectTimeout}`,
      '-o',
      'LogLevel=ERROR',
      '-o',
      `HostKeyAlias=${h.ip}`,
      '-T',
      '-p',
      '22',
      `${user}@${h.away ? '127.0.0.1' : h.ip}`,
    ];
  }

  private ssh(
    h: HostRt,
    user: string,
    command: string,
    opts: { timeoutMs?: number; input?: string; connectTimeout?: number },
  ): Promise<ExecResult> {
    return runProcess('ip', [...this.sshArgs(h, user, opts.connectTimeout ?? 5), '--', command], {
      env: { ...CHILD_ENV, HOME: this.home },
      timeoutMs: opts.timeoutMs,
      input: opts.input,
    });
  }

  private host(name: string): HostRt {
    if (this.tornDown) throw new Error(`lab ${this.prefix} was torn down`);
    const h = this.rt.get(name);
    if (!h) throw new Error(`no lab host ${JSON.stringify(name)} (have: ${[...this.rt.keys()].join(', ')})`);
    return h;
  }

  inventoryHosts(): Record<
    string,
    { ansible_host: string; ansible_user: string; ansible_ssh_private_key_file: string }
  > {
    const out: Record<string, { ansible_host: string; ansible_user: string; ansible_ssh_private_key_file: string }> =
      {};
    for (const h of this.rt.values())
      out[h.name] = { ansible_host: h.ip, ansible_user: this.adminUser, ansible_ssh_private_key_file: this.adminKey };
    return out;
  }

  exec(
    host: string,
    command: string,
    opts: { user?: string; timeoutMs?: number; input?: string } = {},
  ): Promise<ExecResult> {
    return this.ssh(this.host(host), opts.user ?? this.adminUser, command, opts);
  }

  run(
    argv: string[],
    opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; input?: string } = {},
  ): Promise<ExecResult> {
    if (!argv.length) throw new Error('lab.run: empty argv');
    return runProcess('ip', ['netns', 'exec', this.bridgeNs, ...argv], {
      env: { ...CHILD_ENV, HOME: this.home, ...opts.env },
      cwd: opts.cwd,
      timeoutMs: opts.timeoutMs,
      input: opts.input,
    });
  }

  nspawnPid(host: string): number | undefined {
    const h = this.rt.get(host);
    return h && this.running(h) ? h.pid : undefined;
  }

  consoleLog(host: string): string {
    const h = this.rt.get(host);
    if (!h) throw new Error(`no lab host ${JSON.stringify(host)}`);
    return h.log;
  }

  async stop(host: string): Promise<void> {
    const h = this.host(host);
    h.stopping = true;
    if (h.proc && this.running(h)) {
      debug(`${h.name}: stopping (SIGTERM → poweroff)`);
      kill(h.pid!, 'SIGTERM');
      const done = await Promise.race([h.exited!.then(() => true), sleep(15_000).then(() => false)]);
      if (!done) {
        process.stderr.write(`[lab] ${h.name} did not power off in 15 s; killing it\n`);
        killNetnsProcesses(h.netns);
        kill(h.pid!, 'SIGKILL');
        await Promise.race([h.exited, sleep(5000)]);
      }
    }
    // Nothing of the old boot may linger in the host's namespace.
    killNetnsProcesses(h.netns);
    h.proc = undefined;
    h.pid = undefined;
    this.saveState();
  }

  async start(host: string, timeoutMs = 120_000): Promise<void> {
    const h = this.host(host);
    if (this.running(h)) return;
    h.stopping = false;
    this.bootHost(h);
    await this.waitReady(h, timeoutMs);
  }

  async reboot(host: string): Promise<void> {
    await this.stop(host);
    await this.start(host);
  }

  async setLink(host: string, up: boolean): Promise<void> {
    const h = this.host(host);
    sh('ip', ['-n', h.netns, 'link', 'set', 'eth0', up ? 'up' : 'down']);
  }

  async setAway(host: string, away: boolean): Promise<void> {
    const h = this.host(host);
    if (!findCommand('nft')) throw new Error('lab.setAway needs nft (apt-get install -y nftables)');
    if (away) {
      // Unsolicited connections are dropped (a TCP SYN from outside), as a NAT router does; packets of
      // connections the host made, also those made before it went away, pass. (A conntrack rule,
      // 'ct state established accept', would not do: the kernel starts tracking this namespace's
      // connections only once such a rule exists, and takes the first packet of an older one for new:
      // the host's tunnel then stalled for seconds until its next keepalive went out.)
      const rules = `table inet ${AWAY_TABLE} {
  chain input {
    type filter hook input priority 0; policy accept;
    iif "lo" accept
    tcp flags & (syn | ack) == syn drop
    meta l4proto { udp, icmp } ct state new drop
  }
}
`;
      sh('ip', ['netns', 'exec', h.netns, 'nft', '-f', '-'], { input: rules });
    } else {
      sh('ip', ['netns', 'exec', h.netns, 'nft', 'delete', 'table', 'inet', AWAY_TABLE], { allowFail: true });
    }
    h.away = away;
  }

  async changeIp(host: string, newIp: string): Promise<void> {
    const h = this.host(host);
    const n = ipOctet(newIp);
    if (n === 1) throw new Error(`${newIp} is the bridge's address`);
    const other = [...this.rt.values()].find((o) => o !== h && o.ip === newIp);
    if (other) throw new Error(`${newIp} is already ${other.name}'s address`);
    sh('ip', ['-n', h.netns, 'link', 'set', 'eth0', 'down']);
    sh('ip', ['-n', h.netns, 'addr', 'flush', 'dev', 'eth0']);
    sh('ip', ['-n', h.netns, 'addr', 'add', `${newIp}/24`, 'dev', 'eth0']);
    sh('ip', ['-n', h.netns, 'link', 'set', 'eth0', 'up']);
    // The bridge namespace's neighbour entry for the old address is stale now.
    sh('ip', ['-n', this.bridgeNs, 'neigh', 'flush', 'dev', 'br0'], { allowFail: true });
    h.ip = newIp;
    this.hosts[h.name].ip = newIp;
    this.writeKnownHosts();
  }

  async forwardPort(host: string, from: number, to: number): Promise<void> {
    const h = this.host(host);
    for (const p of [from, to])
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`forwardPort: bad port ${p}`);
    if (!findCommand('nft')) throw new Error('forwardPort needs nft (apt-get install -y nftables)');
    const rules = `table ip relay_play_lab_forward {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    tcp dport ${from} redirect to :${to}
  }
}
`;
    sh('ip', ['netns', 'exec', h.netns, 'nft', '-f', '-'], { input: rules });
  }

  async teardown(): Promise<void> {
    this.teardownSync();
  }

  teardownSync(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    liveLabs.delete(this);
    const s: LabState = {
      ...this.state,
      pids: [...this.rt.values()].filter((h) => h.pid).map((h) => ({ pid: h.pid! })),
    };
    try {
      cleanupState(s);
    } catch (e) {
      process.stderr.write(`[lab] teardown of ${this.prefix}: ${String(e)}\n`);
    }
    for (const h of this.rt.values()) {
      h.proc = undefined;
      h.pid = undefined;
    }
  }

  // ── construction ──

  async boot(
    hosts: { name: string; release: Release; sshdNamedSshd: boolean; cloudInit: boolean }[],
    images: Map<string, LabImage>,
    timeoutMs: number,
  ): Promise<void> {
    hosts.forEach(({ name, release, sshdNamedSshd, cloudInit }, i) => {
      const ip = `${SUBNET}.${FIRST_HOST_OCTET + i}`;
      const h: HostRt = {
        name,
        release,
        sshdNamedSshd,
        cloudInit,
        ip,
        netns: `${this.prefix}-${name}`,
        machine: `${this.prefix}-${name}`,
        veth: `vh${FIRST_HOST_OCTET + i}`,
        root: '',
        log: path.join(this.dir, `${name}.console.log`),
      };
      this.rt.set(name, h);
      this.hosts[name] = { name, ip, netns: h.netns, release };
    });
    this.setupHome();
    this.setupBridge();
    for (const h of this.rt.values()) {
      this.setupHostNet(h);
      this.setupRoot(h, images.get(imageKey(h.release, h.cloudInit))!);
    }
    const t0 = Date.now();
    // Cloud-init hosts wait for their seed (bootFromCloudInit).
    const now = [...this.rt.values()].filter((h) => !h.cloudInit);
    for (const h of now) this.bootHost(h);
    await Promise.all(now.map((h) => this.waitReady(h, timeoutMs)));
    debug(`${hosts.length} hosts ready in ${Date.now() - t0} ms`);
  }
}

/** The nftables table that keeps an "away" host unreachable from outside (setAway). */
const AWAY_TABLE = 'relay_play_lab_away';

function disableIpv6Default(ns: string): void {
  sh(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'sh',
      '-c',
      'f=/proc/sys/net/ipv6/conf/default/disable_ipv6; if [ -w "$f" ]; then echo 1 > "$f"; fi',
    ],
    { allowFail: true },
  );
}

function randomPrefix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.randomBytes(4);
  return 'rpl' + [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}

/**
 * Every container's systemd takes several inotify instances; the kernel's default of 128 per user
 * (all hosts run as root) runs out at a few dozen hosts and boots then hang. Raise it, never lower it.
 */
function raiseInotifyLimit(): void {
  const file = '/proc/sys/fs/inotify/max_user_instances';
  try {
    if (Number(fs.readFileSync(file, 'utf8')) < 1024) fs.writeFileSync(file, '1024');
  } catch {
    /* not writable here: boots may still work for small labs */
  }
}

/** The release of each host: one for all, or per host name (the rest get DEFAULT_RELEASE). */
function releasesOf(names: string[], release: StartLabOptions['release']): Release[] {
  const ok = (r: unknown, what: string): Release => {
    if (!(RELEASES as readonly unknown[]).includes(r))
      throw new Error(`startLab: release of ${what} is ${JSON.stringify(r)}; want one of ${RELEASES.join(', ')}`);
    return r as Release;
  };
  if (release === undefined) return names.map(() => DEFAULT_RELEASE);
  if (typeof release === 'string') return names.map(() => ok(release, 'every host'));
  const unknown = Object.keys(release).find((n) => !names.includes(n));
  if (unknown)
    throw new Error(`startLab: release given for ${JSON.stringify(unknown)}, which is not a host of this lab`);
  return names.map((n) => (n in release ? ok(release[n], n) : DEFAULT_RELEASE));
}

/**
 * Boot a lab of Debian hosts named `names` (addresses 198.18.0.10, .11, ... in that order), each
 * running systemd + sshd, reachable as admin from inside lab.bridgeNs. Builds each release's image on
 * first use.
 */
export async function startLab(names: string[], opts: StartLabOptions = {}): Promise<Lab> {
  const avail = labAvailable();
  if (!avail.ok) throw new Error(`lab not available: ${avail.why}`);
  if (!names.length) throw new Error('startLab: no host names');
  if (names.length > 240) throw new Error('startLab: at most 240 hosts');
  for (const n of names) {
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(n) || n.endsWith('-') || n === 'br') {
      throw new Error(`startLab: bad host name ${JSON.stringify(n)} (want [a-z][a-z0-9-]*, not "br")`);
    }
  }
  if (new Set(names).size !== names.length) throw new Error('startLab: duplicate host names');
  const releases = releasesOf(names, opts.release);
  const renamed = opts.sshdNamedSshd ?? [];
  const stranger = renamed.find((n) => !names.includes(n));
  if (stranger)
    throw new Error(`startLab: sshdNamedSshd names ${JSON.stringify(stranger)}, which is not a host of this lab`);
  raiseInotifyLimit();
  const prefix = opts.prefix ?? randomPrefix();
  if (!/^[a-z][a-z0-9]{1,11}$/.test(prefix)) throw new Error(`startLab: bad prefix ${JSON.stringify(prefix)}`);
  if (fs.existsSync(statePath(prefix)) || netnsList().some((n) => n.startsWith(`${prefix}-`))) {
    sweepStaleLabs();
    if (fs.existsSync(statePath(prefix))) throw new Error(`startLab: a live lab already uses prefix ${prefix}`);
  } else {
    sweepStaleLabs();
  }

  // One build at a time (each takes both CPUs for a minute); an image already cached costs nothing.
  const cloud = opts.cloudInit ?? [];
  const notHost = cloud.find((n) => !names.includes(n));
  if (notHost) throw new Error(`startLab: cloudInit names ${JSON.stringify(notHost)}, which is not a host of this lab`);
  const kinds = names.map((n, i) => ({ release: releases[i], cloudInit: cloud.includes(n) }));
  const images = new Map<string, LabImage>();
  for (const k of kinds) {
    const key = imageKey(k.release, k.cloudInit);
    if (!images.has(key)) images.set(key, await ensureImage(k.release, { cloudInit: k.cloudInit }));
  }
  const img = images.get(imageKey(kinds[0].release, kinds[0].cloudInit))!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `relay-play-lab-${prefix}-`));
  fs.chmodSync(dir, 0o700);
  const lab = new LabImpl(prefix, dir, img);
  installExitHandlers();
  liveLabs.add(lab);
  lab.saveState(); // before creating anything, so a crash at any point is sweepable
  try {
    const hosts = names.map((name, i) => ({
      name,
      release: releases[i],
      sshdNamedSshd: renamed.includes(name),
      cloudInit: cloud.includes(name),
    }));
    await lab.boot(hosts, images, opts.bootTimeoutMs ?? 120_000);
  } catch (e) {
    lab.teardownSync();
    throw e;
  }
  return lab;
}
