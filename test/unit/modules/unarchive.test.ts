// unarchive: argument table, what is refused before anything runs, and a tar archive unpacked for real
// in a sandbox (GNU tar here): unpacked, then unpacked already, a mode on every file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { unarchive } from '../../../src/engine/modules/unarchive.js';
import type { Module } from '../../../src/engine/modules/types.js';
import { applyPlan, argTable, cannedCtx, planWith, sandboxPerTest } from './fake-host.js';

describe('unarchive', () => {
  argTable(unarchive as Module<never>, [
    [{ src: 'a.tgz', dest: '/srv' }, true],
    [{ src: '/tmp/a.tgz', dest: '/srv', remote_src: true, list_files: 'yes', exclude: ['x', 'y/'] }, true],
    [{ src: 'a.tgz', dest: '/srv', include: 'a,b', extra_opts: ['--strip-components=1'], mode: '0755' }, true],
    [{ src: 'a.tgz' }, false],
    [{ src: 'a.tgz', dest: '/srv', validate: 'x' }, false],
  ]);

  it('refuses include with exclude, copy with remote_src; skips in check mode and when creates exists', async () => {
    const ctx = () => cannedCtx('no\n');
    assert.match(
      String((await planWith(unarchive, { src: 'a', dest: '/d', include: ['a'], exclude: ['b'] }, ctx())).failed),
      /mutually exclusive: include\|exclude/,
    );
    assert.match(
      String((await planWith(unarchive, { src: 'a', dest: '/d', copy: false, remote_src: true }, ctx())).failed),
      /copy\|remote_src/,
    );
    const check = await planWith(
      unarchive,
      { src: '/a', dest: '/d', remote_src: true },
      cannedCtx([], { check: true }),
    );
    assert.equal(check.skipped, true);
    const made = await planWith(
      unarchive,
      { src: '/a', dest: '/d', remote_src: true, creates: '/d/x' },
      cannedCtx('yes\n'),
    );
    assert.deepEqual([made.skipped, made.msg], [true, 'skipped, since /d/x exists']);
  });

  const sb = sandboxPerTest();
  it('unpacks a remote archive once; a mode is set on every file', async () => {
    mkdirSync(sb.p('src/d'), { recursive: true });
    writeFileSync(sb.p('src/a.txt'), 'one\n');
    writeFileSync(sb.p('src/d/b.txt'), 'two\n');
    execFileSync('tar', ['czf', sb.p('t.tgz'), '-C', sb.p('src'), 'a.txt', 'd']);
    mkdirSync(sb.p('out'));
    const args = { src: sb.p('t.tgz'), dest: sb.p('out'), remote_src: true, list_files: true };
    const run = async (a: object) => applyPlan(await planWith(unarchive, a as never, cannedCtx([])), sb).result;
    const first = await run(args);
    assert.equal(first.changed, true, JSON.stringify(first));
    assert.equal(first.handler, 'TgzArchive');
    assert.deepEqual(first.files, ['a.txt', 'd/', 'd/b.txt']);
    assert.deepEqual((first.extract_results as { cmd: string[] }).cmd.slice(1), [
      '--extract',
      '-C',
      sb.p('out'),
      '-z',
      '-f',
      sb.p('t.tgz'),
    ]);
    const again = await run(args);
    assert.equal(again.changed, false, JSON.stringify(again));
    assert.equal(again.extract_results, undefined);
    const moded = await run({ ...args, mode: '0700' });
    assert.equal(moded.changed, true);
    assert.equal(statSync(sb.p('out/d/b.txt')).mode & 0o777, 0o700);
    assert.equal((await run({ ...args, mode: '0700' })).changed, false);
  });
});
