#!/usr/bin/env node
// The test run of `npm test`, in two lanes one after the other (after the build):
// - shared: the unit tests and the lab suites whose checks hold whatever else the machine does, two
//   files at a time (a lab suite waits on its hosts much of the time);
// - alone: the lab suites that measure time (tunnels back within seconds, a watcher's sampling) and those
//   that restart the tunnel their own connection runs through or reboot a device behind it (away, enroll,
//   reboot: each must be confirmed within a minute), one at a time with nothing else running, so their
//   bounds measure relay-play and not a busy machine.
// Each lane prints node --test's own summary; the exit code is the worse of the two.
//   node scripts/test-lanes.mjs
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const ALONE = ['faults', 'roaming', 'watch', 'relays', 'away', 'enroll', 'reboot'].map((s) => `dist/test/${s}.test.js`);

/** The compiled test files in dir (relative to the repository). */
function tests(dir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => join(dir, f));
}

const all = [...tests('dist/test'), ...tests('dist/test/unit'), ...tests('dist/test/unit/modules')];
const shared = all.filter((f) => !ALONE.includes(f));
const alone = all.filter((f) => ALONE.includes(f));
if (alone.length !== ALONE.length) {
  process.stderr.write(`test-lanes: not built: ${ALONE.filter((f) => !all.includes(f)).join(', ')}\n`);
  process.exit(1);
}

/** Run one lane; its exit status. */
function lane(files, concurrency) {
  const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], {
    stdio: 'inherit',
  });
  return r.status ?? 1;
}

const status = Math.max(lane(shared, 2), lane(alone, 1));
process.exit(status);
