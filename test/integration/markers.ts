// Did an injected command run anywhere? Files whose name holds a test's token, looked for on the lab
// hosts and on the runner's own machine, over all of / — tmpfs mounts included: in the lab's nspawn
// hosts /tmp, /run and /dev/shm are separate tmpfs mounts that `find / -xdev` never enters, and /tmp
// is where most payloads write. Only /proc and /sys are left out.
//
// A search that cannot see finds nothing, which looks like a pass. So before each search a canary
// named with the token is planted in every place a payload is likely to land (/tmp, /var/tmp, /run,
// /dev/shm, the login's home; on the runner its temp dir, HOME and working directory too), and the
// search must find every one of them, or the check fails as blind.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Lab } from '../lab/index.js';
import { REPO, show } from './util.js';

/** A token for payload file names: unique per test run, so parallel labs never see each other's. */
export const markerToken = (bytes = 6): string => `rpm${randomBytes(bytes).toString('hex')}`;

export interface Hit {
  /** a lab host's name, or "runner" */
  where: string;
  path: string;
}

const HOST_DIRS = ['/tmp', '/var/tmp', '/run', '/dev/shm', '"$HOME"'];

/** Plant the canaries (saying where), then `find /` without -xdev (every mount but /proc and /sys), then clear them. */
const HOST_SCRIPT = `t=$1; shift
for d in "$@"; do sudo -n touch "$d/canary-$t" && echo "planted $d/canary-$t"; done
sudo -n find / \\( -path /proc -o -path /sys \\) -prune -o -name "*$t*" -print 2>/dev/null
for d in "$@"; do sudo -n rm -f "$d/canary-$t"; done
exit 0`;

/**
 * Every file or directory named with `token` on `hosts` (and on the runner unless runner: false),
 * minus the canaries and anything under `expected` (paths where the test itself put such names).
 */
export async function findMarkers(
  lab: Lab,
  hosts: string[],
  token: string,
  opts: { runner?: boolean; expected?: string[] } = {},
): Promise<Hit[]> {
  assert.match(token, /^[a-z0-9]{8,}$/, 'a token that is one plain word');
  const hits: Hit[] = [];
  const canaryMissing: string[] = [];
  const expected = (p: string) => (opts.expected ?? []).some((dir) => p === dir || p.startsWith(`${dir}/`));

  await Promise.all(
    hosts.map(async (host) => {
      const r = await lab.exec(
        host,
        `f=$(mktemp) && cat > "$f" && bash "$f" ${token} ${HOST_DIRS.join(' ')}; rc=$?; rm -f "$f"; exit $rc`,
        { input: HOST_SCRIPT, timeoutMs: 180_000 },
      );
      assert.equal(r.code, 0, `${host}: marker search\n${show(r)}`);
      const lines = r.stdout.split('\n').filter(Boolean);
      const planted = lines.filter((l) => l.startsWith('planted ')).map((l) => l.slice('planted '.length));
      const found = lines.filter((l) => !l.startsWith('planted '));
      if (planted.length !== HOST_DIRS.length) canaryMissing.push(`${host}: planted only ${planted.join(', ')}`);
      for (const c of planted) if (!found.includes(c)) canaryMissing.push(`${host}:${c}`);
      for (const path of found) if (!planted.includes(path) && !expected(path)) hits.push({ where: host, path });
    }),
  );

  if (opts.runner !== false) {
    // Where a payload run by the runner itself would land: its temp dir, HOME, cwd (the CLI runs in REPO).
    const dirs = [...new Set([tmpdir(), '/tmp', '/var/tmp', '/run', '/dev/shm', lab.home, REPO])];
    const canaries = dirs.map((d) => join(d, `canary-${token}`));
    // The lab hosts' roots are mounted on the runner too (overlayfs, ours and other labs'), and this
    // lab's hold their changes under lab.dir/hosts: those are searched from inside each host, not here.
    const labRoots = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f[0]?.startsWith('relay-play-lab-'))
      .map((f) => f[1].replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
    try {
      for (const c of canaries) writeFileSync(c, '');
      const prune = ['/proc', '/sys', join(lab.dir, 'hosts'), ...labRoots].flatMap((p, i) => [
        ...(i ? ['-o'] : []),
        '-path',
        p,
      ]);
      const out = await promisify(execFile)(
        'find',
        ['/', '(', ...prune, ')', '-prune', '-o', '-name', `*${token}*`, '-print'],
        { maxBuffer: 64 * 1024 * 1024 },
      ).catch(
        (e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }), // a vanished file makes find exit 1; the canaries tell whether it saw
      );
      const found = out.stdout.split('\n').filter(Boolean);
      for (const c of canaries) if (!found.includes(c)) canaryMissing.push(`runner:${c}`);
      for (const path of found) if (!canaries.includes(path) && !expected(path)) hits.push({ where: 'runner', path });
    } finally {
      for (const c of canaries) rmSync(c, { force: true });
    }
  }

  assert.deepEqual(
    canaryMissing,
    [],
    'the marker search is blind: it did not find the canaries planted just before it',
  );
  return hits;
}
