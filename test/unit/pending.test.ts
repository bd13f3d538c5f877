// Notified handlers survive an interrupted run (src/runner/pending.ts), on this machine through the
// CLI with ansible_connection: local and a HOME of the test's own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { pendingKey } from '../../src/runner/pending.js';
import type { PlayDef, TaskDef } from '../../src/playbook/types.js';

const CLI = fileURLToPath(new URL('../../../bin/relay-play.js', import.meta.url));

describe('pending handlers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-play-pending-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, 'home');
  mkdirSync(home);
  const pendingDir = join(home, '.relay-play', 'pending');
  const conf = join(dir, 'app.conf');
  const handled = join(dir, 'handled');

  const run = (handlerCommand: string | object) => {
    const inv = join(dir, 'inventory.yaml');
    writeFileSync(inv, stringify({ all: { hosts: { here: { ansible_connection: 'local' } } } }));
    const pb = join(dir, 'pb.yaml');
    writeFileSync(pb, stringify([{
      name: 'app',
      hosts: 'all',
      tasks: [{ name: 'config', copy: { content: 'v1\n', dest: conf }, notify: 'restart app' }],
      handlers: [typeof handlerCommand === 'string' ? { name: 'restart app', shell: handlerCommand } : { name: 'restart app', ...handlerCommand }],
    }]));
    return spawnSync(process.execPath, [CLI, 'run', pb, '-i', inv], { encoding: 'utf8', env: { ...process.env, HOME: home } });
  };
  const key = pendingKey({ name: 'app' } as PlayDef, { rawName: 'restart app' } as TaskDef);

  it('a failed handler leaves its notification on the host; the next run runs it although nothing changes', () => {
    const r1 = run('exit 1');
    assert.equal(r1.status, 2, r1.stdout + r1.stderr);
    assert.deepEqual(readdirSync(pendingDir), [key], 'marked before the change, still there');
    const r2 = run(`touch '${handled}'`);
    assert.equal(r2.status, 0, r2.stdout + r2.stderr);
    assert.match(r2.stdout, /ok: \[here\] config/, 'the task itself changes nothing now');
    assert.ok(existsSync(handled), `the pending handler ran:\n${r2.stdout}`);
    assert.deepEqual(readdirSync(pendingDir), [], 'and its marker is gone');
  });

  it('once run, a handler is not run again', () => {
    rmSync(handled, { force: true });
    const r = run(`touch '${handled}'`);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(existsSync(handled), false, r.stdout);
  });

  it('a handler with steps of its own clears its marker in the same round trip', () => {
    writeFileSync(join(pendingDir, key), '');
    rmSync(handled, { force: true });
    const r = run({ copy: { content: 'done\n', dest: handled } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(existsSync(handled), r.stdout);
    assert.deepEqual(readdirSync(pendingDir), []);
  });

  it('a marker left by an interrupted run (a kill after the change) runs the handler', () => {
    writeFileSync(join(pendingDir, key), '');
    const r = run(`touch '${handled}'`);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(existsSync(handled), r.stdout);
    assert.deepEqual(readdirSync(pendingDir), []);
  });
});
