// What a host looks like, for "this changed nothing" checks: every file on every mount (tmpfs
// included) with its type, mode, owner, size and change time (ctime moves on any write, chmod, chown or
// rename-over, to the nanosecond), plus users, groups, units and listening sockets. What an SSH login
// and sudo change by themselves (journal, wtmp/lastlog, sudo's timestamps, the session's /run
// entries) is left out: a check that had to allow for them could not tell the tool's writes apart.
import assert from 'node:assert/strict';
import type { Lab } from '../lab/index.js';
import { show } from './util.js';

/**
 * Paths that change whoever logs in, or by themselves: journald, wtmp/lastlog, logind's and sudo's state,
 * pam_motd, systemd's timer stamps and random seed, relay-play's tunnel watcher's state and metrics. On a lab host, two snapshots around a login that ran
 * sudo differed in /run/motd.dynamic (and /run's ctime) only, once these were left out.
 */
const LOGIN_NOISE = [
  '/proc',
  '/sys',
  '/dev',
  '/var/log', // journal, wtmp, lastlog, btmp
  '/run/log', // the volatile journal
  '/run/systemd', // sessions, users, inhibitors, units' runtime state
  '/run/user', // the login's XDG_RUNTIME_DIR
  '/run/sudo', // sudo's timestamps
  '/var/lib/sudo',
  '/run/utmp',
  '/run/motd.dynamic', // pam_motd rewrites it at each login (so /run itself is listed without its ctime)
  '/var/lib/systemd/timers',
  '/var/lib/systemd/random-seed',
  // relay-play-watch on a relay rewrites its state and its metrics every few seconds, by itself.
  '/var/lib/relay-play/watch',
  '/var/lib/prometheus/node-exporter',
  '/tmp/.snapshot', // this helper's own script
];

const SCRIPT = `set -e
find / \\( ${LOGIN_NOISE.map((p) => `-path ${p}`).join(' -o ')} \\) -prune -o -path /run -printf '%p %y %m %U:%G\\n' -o -printf '%p %y %m %U:%G %s %C@\\n' | LC_ALL=C sort
echo '--- users'; getent passwd; echo '--- groups'; getent group
echo '--- units'; systemctl list-units --all --plain --no-legend --no-pager | awk '{print $1, $2, $3, $4}' | grep -v -e '^session-' -e '^user@' -e '^user-runtime-dir@' -e '^run-user-' -e '^user-[0-9]*\\.slice' | LC_ALL=C sort
echo '--- unit files'; systemctl list-unit-files --plain --no-legend --no-pager | LC_ALL=C sort
echo '--- listening'; ss -Hltnu | awk '{print $1, $5}' | LC_ALL=C sort`;

/** The state of `host` (one root shell); compare two with stateChanges. */
export async function hostState(lab: Lab, host: string): Promise<string> {
  const r = await lab.exec(
    host,
    'sudo -n mkdir -p /tmp/.snapshot && f=$(sudo -n mktemp /tmp/.snapshot/XXXXXX) && sudo -n tee "$f" >/dev/null && sudo -n bash "$f"; rc=$?; sudo -n rm -f "$f"; exit $rc',
    { input: SCRIPT, timeoutMs: 120_000 },
  );
  assert.equal(r.code, 0, `${host}: state snapshot\n${show(r)}`);
  assert.match(r.stdout, /^\/etc\/passwd f /m, `${host}: the snapshot lists files`);
  return r.stdout;
}

/** Every host's state, side by side. */
export async function fleetState(lab: Lab, hosts: string[]): Promise<Record<string, string>> {
  const states = await Promise.all(hosts.map((h) => hostState(lab, h)));
  return Object.fromEntries(hosts.map((h, i) => [h, states[i]]));
}

/**
 * Lines only in `before` (-) or only in `after` (+), per host; empty when nothing changed. `allowed`:
 * per host, paths whose lines may differ (each one named, with why, by the caller).
 */
export function stateChanges(
  before: Record<string, string>,
  after: Record<string, string>,
  allowed: Record<string, string[]> = {},
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const host of Object.keys(before)) {
    const ok = new Set(allowed[host] ?? []);
    const keep = (l: string) => !ok.has(l.split(' ')[0]);
    const a = new Set(before[host].split('\n').filter(keep));
    const b = new Set((after[host] ?? '').split('\n').filter(keep));
    const diff = [
      ...[...a].filter((l) => !b.has(l)).map((l) => `- ${l}`),
      ...[...b].filter((l) => !a.has(l)).map((l) => `+ ${l}`),
    ];
    if (diff.length) out[host] = diff;
  }
  return out;
}
