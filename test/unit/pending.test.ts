// Notified handlers survive an interrupted run (src/engine/runner/pending.ts), on this machine through the
// CLI with ansible_connection: local and a HOME of the test's own. Each test starts from nothing (no
// config, no `handled` file, no marker), so what it sees is what its own runs did.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { pendingKey } from '../../src/engine/runner/pending.js';
import type { PlayDef, TaskDef } from '../../src/engine/playbook/types.js';
import { tripCounter } from './round-trips.js';

const CLI = fileURLToPath(new URL('../../../bin/relay-play.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pending handlers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-play-pending-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, 'home');
  const pendingDir = join(home, '.relay-play', 'pending');
  const conf = join(dir, 'app.conf');
  const handled = join(dir, 'handled');
  const started = join(dir, 'started');
  const inv = join(dir, 'inventory.yaml');
  writeFileSync(inv, stringify({ all: { hosts: { here: { ansible_connection: 'local' } } } }));

  const counter = tripCounter(dir);

  const playbook = (handler: string | object, extraTasks: object[] = [], content = 'v1\n') => {
    const pb = join(dir, 'pb.yaml');
    writeFileSync(
      pb,
      stringify([
        {
          name: 'app',
          hosts: 'all',
          tasks: [{ name: 'config', copy: { content, dest: conf }, notify: 'restart app' }, ...extraTasks],
          handlers: [
            typeof handler === 'string' ? { name: 'restart app', shell: handler } : { name: 'restart app', ...handler },
          ],
        },
      ]),
    );
    return pb;
  };
  const env = { ...process.env, HOME: home };
  const run = (handler: string | object, opts: { countTrips?: boolean } = {}) => {
    counter.reset();
    return spawnSync(process.execPath, [CLI, 'run', playbook(handler), '-i', inv], {
      encoding: 'utf8',
      env: { ...env, ...(opts.countTrips ? counter.env : {}) },
    });
  };
  const markers = () => (existsSync(pendingDir) ? readdirSync(pendingDir) : []);
  const key = pendingKey({ name: 'app' } as PlayDef, { rawName: 'restart app' } as TaskDef);
  const touchHandled = `touch '${handled}'`;

  beforeEach(() => {
    for (const f of [conf, handled, started, home]) rmSync(f, { recursive: true, force: true });
    mkdirSync(home);
  });

  it('a failed handler leaves its notification on the host; the next run runs it although nothing changes', () => {
    const r1 = run('exit 1');
    assert.equal(r1.status, 2, r1.stdout + r1.stderr);
    assert.deepEqual(markers(), [key], 'marked before the change, still there');
    assert.equal(existsSync(handled), false);
    const r2 = run(touchHandled);
    assert.equal(r2.status, 0, r2.stdout + r2.stderr);
    assert.match(r2.stdout, /^ok: \[here\] config$/m, 'the task itself changes nothing now');
    assert.ok(existsSync(handled), `the pending handler ran:\n${r2.stdout}`);
    assert.deepEqual(markers(), [], 'and its marker is gone');
  });

  it('once run, a handler is not run again', () => {
    const r1 = run(touchHandled);
    assert.equal(r1.status, 0, r1.stdout + r1.stderr);
    assert.ok(existsSync(handled), `the first run's change notified it:\n${r1.stdout}`);
    assert.deepEqual(markers(), []);
    rmSync(handled);
    const r2 = run(touchHandled);
    assert.equal(r2.status, 0, r2.stdout + r2.stderr);
    assert.match(r2.stdout, /^ok: \[here\] config$/m);
    assert.equal(existsSync(handled), false, r2.stdout);
  });

  it('a handler with steps of its own clears its marker in the same round trip', () => {
    writeFileSync(conf, 'v1\n'); // the task has nothing to do: only the marker calls the handler
    mkdirSync(pendingDir, { recursive: true });
    writeFileSync(join(pendingDir, key), '');
    const r = run({ copy: { content: 'done\n', dest: handled } }, { countTrips: true });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok: \[here\] config$/m, r.stdout);
    assert.equal(readFileSync(handled, 'utf8'), 'done\n', r.stdout);
    assert.deepEqual(markers(), []);
    const all = counter.trips();
    const clears = all.filter((t) => t.includes('rm -f -- "$HOME/.relay-play/pending"'));
    assert.equal(clears.length, 1, `one round trip clears the marker:\n${all.join('\n---\n')}`);
    assert.ok(
      clears[0].includes(`mv -f -- "$tmp" "$dest"`) && clears[0].includes(handled),
      `the one that writes the handler's file:\n${clears[0]}`,
    );
    // The play's reads (the task's file and the markers) in one, the handler's read, its steps with the clear.
    assert.equal(all.length, 3, `round trips of the run:\n${all.join('\n---\n')}`);
  });

  it('a run killed after the change, before its handlers, leaves the marker; the next run runs the handler', async () => {
    // The task after the change waits: the run is killed (SIGKILL, no clean-up) while it does.
    const pb = playbook(touchHandled, [{ name: 'wait', shell: `touch '${started}'; sleep 60` }]);
    const child = spawn(process.execPath, [CLI, 'run', pb, '-i', inv], { env, detached: true, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    const t0 = Date.now();
    while (!existsSync(started) && child.exitCode === null && Date.now() - t0 < 30_000) await sleep(20);
    assert.ok(existsSync(started), 'the run reached the task after the change');
    assert.equal(child.exitCode, null, 'and was still running');
    process.kill(-child.pid!, 'SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.equal(readFileSync(conf, 'utf8'), 'v1\n', 'the change was made');
    assert.equal(existsSync(handled), false, 'its handler never ran');
    assert.deepEqual(markers(), [key], 'the killed run left the marker');

    const r = run(touchHandled);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok: \[here\] config$/m, 'nothing to change now');
    assert.ok(existsSync(handled), `the handler ran all the same:\n${r.stdout}`);
    assert.deepEqual(markers(), []);
  });
});
