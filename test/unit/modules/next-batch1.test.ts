// ping, raw, group, tempfile, replace: argument tables (what the schema takes and refuses, as Ansible's
// argument specs do), plans from canned reads, and real runs in a sandbox where the module only touches files.
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ping } from '../../../src/engine/modules/ping.js';
import { raw } from '../../../src/engine/modules/raw.js';
import { group } from '../../../src/engine/modules/group.js';
import { tempfile } from '../../../src/engine/modules/tempfile.js';
import { pySubn, replace } from '../../../src/engine/modules/replace.js';
import type { Module } from '../../../src/engine/modules/types.js';
import {
  applyPlan,
  argTable,
  cannedCases,
  cannedCtx,
  converge,
  planWith,
  runLocal,
  sandboxCtx,
  sandboxPerTest,
} from './fake-host.js';

describe('ping', () => {
  argTable(ping as Module<never>, [
    [{}, true],
    [{ data: 'hi' }, true],
    [{ data: 3 }, true],
    [{ dat: 'x' }, false],
  ]);
  it('answers with data (pong by default), from one read, changing nothing', async () => {
    const ctx = cannedCtx('pong\n');
    const plan = await planWith(ping, {}, ctx);
    assert.deepEqual(plan, { changed: false, steps: [], result: { ping: 'pong' } });
    assert.deepEqual(ctx.reads, ['echo pong']);
    assert.deepEqual((await planWith(ping, { data: 7 }, cannedCtx('pong\n'))).result, { ping: '7' });
  });
  it('data: crash fails as Ansible documents; a host whose shell does not answer fails', async () => {
    assert.match(String((await planWith(ping, { data: 'crash' }, cannedCtx('pong\n'))).failed), /^MODULE FAILURE/);
    const dead = await planWith(ping, {}, cannedCtx({ code: 127, stdout: '', stderr: 'sh: not found' }));
    assert.match(String(dead.failed), /did not answer: sh: not found/);
  });
});

describe('raw', () => {
  const sb = sandboxPerTest();
  argTable(raw as Module<never>, [
    [{ _raw: 'echo hi' }, true],
    [{ _raw: 'echo hi', executable: '/bin/bash' }, true],
    [{ cmd: 'echo hi' }, false],
    [{}, false],
    [{ _raw: 'x', chdir: '/' }, false],
  ]);
  it('runs the text through sh on a terminal (as ssh -tt): CRLF, stderr joined; rc and lines; always changed', async () => {
    const plan = await planWith(
      raw,
      { _raw: 'echo "a  b"; echo err >&2; printf "x\\n\\ny\\n"; tty >/dev/null && echo tty' },
      sandboxCtx(sb),
    );
    const { result } = applyPlan(plan, sb);
    assert.deepEqual(result, {
      changed: true,
      rc: 0,
      stdout: 'a  b\r\nerr\r\nx\r\n\r\ny\r\ntty\r\n',
      stdout_lines: ['a  b', 'err', 'x', '', 'y', 'tty'],
      stderr: '',
      stderr_lines: [],
    });
  });
  it("never reads the trip's standard input", async () => {
    const plan = await planWith(raw, { _raw: 'cat; echo done' }, sandboxCtx(sb));
    const out = runLocal(plan.steps[0].command, sb.dir, 'secret of another step\n');
    assert.equal(out.stdout, 'done\r\n');
  });
  it('a non-zero rc fails with "non-zero return code"; executable is the shell', async () => {
    const { result } = applyPlan(await planWith(raw, { _raw: 'exit 3' }, sandboxCtx(sb)), sb);
    assert.equal(result.rc, 3);
    assert.equal(result.failed, true);
    assert.equal(result.msg, 'non-zero return code');
    const bash = await planWith(raw, { _raw: 'echo $0', executable: '/bin/bash' }, sandboxCtx(sb));
    assert.equal(applyPlan(bash, sb).result.stdout, 'bash\r\n');
  });
  it('is skipped in check mode, as Ansible skips it', async () => {
    const plan = await planWith(raw, { _raw: 'touch x' }, sandboxCtx(sb, { check: true }));
    assert.equal(plan.skipped, true);
    assert.deepEqual(plan.steps, []);
  });
});

describe('group', () => {
  argTable(group as Module<never>, [
    [{ name: 'web' }, true],
    [{ name: 'web', gid: 1750, system: true, state: 'present', non_unique: 'yes', local: false }, true],
    [{ name: 'web', gid: '1750' }, true],
    [{ name: 'web', gid: 'abc' }, false],
    [{ name: 'web', gid: -1 }, false],
    [{ name: 'web', state: 'gone' }, false],
    [{ name: 'a:b' }, false],
    [{ gid: 5 }, false],
    [{ name: 'web', members: ['x'] }, false],
  ]);
  const add = (cmd: string) => `${cmd} && getent group -- web`;
  cannedCases(
    group,
    [
      {
        name: 'creates the group with gid and -r',
        args: { name: 'web', gid: 1750, system: true },
        read: 'absent\n',
        commands: [add('groupadd -g 1750 -r -- web')],
        result: { name: 'web', state: 'present', system: true },
      },
      {
        name: 'non_unique: -o',
        args: { name: 'web', gid: 0, non_unique: true },
        read: 'absent\n',
        commands: [add('groupadd -g 0 -o -- web')],
      },
      {
        name: 'exists with that gid: nothing to do',
        args: { name: 'web', gid: 1750 },
        read: 'web:x:1750:\n',
        commands: [],
        result: { name: 'web', state: 'present', system: false, gid: 1750 },
      },
      {
        name: 'exists, no gid asked: nothing to do',
        args: { name: 'web' },
        read: 'web:x:1750:alice\n',
        commands: [],
      },
      {
        name: 'another gid: groupmod',
        args: { name: 'web', gid: 1751 },
        read: 'web:x:1750:\n',
        commands: [add('groupmod -g 1751 -- web')],
        result: { name: 'web', state: 'present', system: false, gid: 1750 },
      },
      {
        name: 'absent: groupdel',
        args: { name: 'web', state: 'absent' },
        read: 'web:x:1750:\n',
        commands: ['groupdel -- web'],
        result: { name: 'web', state: 'absent' },
      },
      {
        name: 'absent already',
        args: { name: 'web', state: 'absent' },
        read: 'absent\n',
        commands: [],
        result: { name: 'web', state: 'absent' },
      },
      {
        name: 'check mode, to create: only changed, as Ansible',
        args: { name: 'web' },
        read: 'absent\n',
        check: true,
        changed: true,
        result: {},
      },
      {
        name: 'local: refused (no libuser on Debian)',
        args: { name: 'web', local: true },
        read: 'absent\n',
        failed: /lgroupadd/,
      },
      { name: 'non_unique needs gid', args: { name: 'web', non_unique: true }, read: 'absent\n', failed: /needs gid/ },
    ],
    { readCommand: undefined },
  );
  it("a name starting with '-' reaches getent and groupadd after --, never as an option", async () => {
    const ctx = cannedCtx('absent\n');
    const plan = await planWith(group, { name: '-x' }, ctx);
    assert.match(ctx.reads[0], /getent group -- "\$1".* sh -x$/s);
    assert.equal(plan.steps[0].command, 'groupadd -- -x && getent group -- -x');
  });
  it('a failing groupdel fails the task with its message', async () => {
    const plan = await planWith(group, { name: 'web', state: 'absent' }, cannedCtx('web:x:1:\n'));
    const out = plan.finish!([
      { code: 8, stdout: '', stderr: "groupdel: cannot remove the primary group of user 'x'\n" },
    ]);
    assert.deepEqual(out, {
      failed: true,
      changed: false,
      msg: "groupdel: cannot remove the primary group of user 'x'\n",
    });
  });
});

describe('tempfile', () => {
  const sb = sandboxPerTest();
  argTable(tempfile as Module<never>, [
    [{}, true],
    [{ state: 'directory', path: '/tmp', prefix: 'a.', suffix: '.b' }, true],
    [{ state: 'link' }, false],
    [{ prefix: 'a/b' }, false],
    [{ suffix: '../x' }, false],
    [{ mode: '0600' }, false],
  ]);
  it('a file: Python-style name (8 of [a-z0-9_]), mode 0600, its stat returned; a new one each time', async () => {
    const plan = await planWith(tempfile, { path: sb.dir, suffix: '.x' }, sandboxCtx(sb));
    const { result } = applyPlan(plan, sb);
    assert.match(String(result.path), new RegExp(`^${sb.dir}/ansible\\.[a-z0-9_]{8}\\.x$`));
    assert.equal((statSync(String(result.path)).mode & 0o777).toString(8), '600');
    assert.equal(result.state, 'file');
    assert.equal(result.mode, '0600');
    assert.equal(result.size, 0);
    assert.equal(typeof result.uid, 'number');
    assert.equal(typeof result.owner, 'string');
    const again = applyPlan(await planWith(tempfile, { path: sb.dir, suffix: '.x' }, sandboxCtx(sb)), sb);
    assert.notEqual(again.result.path, result.path);
  });
  it('a directory: mode 0700; a missing path fails; check mode is skipped', async () => {
    const { result } = applyPlan(
      await planWith(tempfile, { path: sb.dir, state: 'directory', prefix: 'XX' }, sandboxCtx(sb)),
      sb,
    );
    assert.match(String(result.path), /\/XX[a-z0-9_]{8}$/);
    assert.ok(statSync(String(result.path)).isDirectory());
    assert.equal(result.mode, '0700');
    const missing = applyPlan(await planWith(tempfile, { path: sb.p('nope') }, sandboxCtx(sb)), sb);
    assert.equal(missing.result.failed, true);
    assert.match(String(missing.result.msg), /No such file or directory/);
    const check = await planWith(tempfile, {}, sandboxCtx(sb, { check: true }));
    assert.equal(check.skipped, true);
    assert.equal(check.msg, 'remote module (tempfile) does not support check mode');
  });
});

describe('replace', () => {
  const sb = sandboxPerTest();
  argTable(replace as Module<never>, [
    [{ path: '/f', regexp: 'a' }, true],
    [{ dest: '/f', regexp: 'a', replace: 'b', after: 'x', before: 'y', backup: true, mode: '0644' }, true],
    [{ destfile: '/f', regexp: 'a', encoding: 'utf-8' }, true],
    [{ name: '/f', regexp: 'a' }, true],
    [{ path: '/f' }, false],
    [{ regexp: 'a' }, false],
    [{ path: '/f', dest: '/g', regexp: 'a' }, false],
    [{ path: '/f', regexp: 'a', encoding: 'latin-1' }, false],
    [{ path: '/f', regexp: 'a', line: 'x' }, false],
  ]);
  it("Python's re.subn, MULTILINE: backrefs, named groups, escapes, empty matches", () => {
    assert.deepEqual(pySubn('^a=(\\d)', 'A=\\1', 'a=1\nb=2\na=3\n'), { text: 'A=1\nb=2\nA=3\n', count: 2 });
    assert.deepEqual(pySubn('(?P<k>\\w+)=', '\\g<k>: ', 'x=1\n'), { text: 'x: 1\n', count: 1 });
    assert.deepEqual(pySubn('$', ';', 'a\nb'), { text: 'a;\nb;', count: 2 });
    assert.deepEqual(pySubn('x*', '-', 'abxd'), { text: '-a-b--d-', count: 5 });
    assert.deepEqual(pySubn(',', '\\n', 'a,b'), { text: 'a\nb', count: 1 });
  });
  it('replaces every match, says how many, diffs; a second run changes nothing', async () => {
    const path = sb.p('f');
    writeFileSync(path, 'a=1\nb=2\na=3\n');
    const { first, applied, second } = await converge(replace, { path, regexp: '^a=(\\d)', replace: 'A=\\1' }, sb);
    assert.equal(readFileSync(path, 'utf8'), 'A=1\nb=2\nA=3\n');
    assert.equal(first.msg, '2 replacements made');
    assert.equal(applied.result.rc, 0);
    assert.deepEqual(first.diff?.[0], {
      before_header: path,
      after_header: path,
      before: 'a=1\nb=2\na=3\n',
      after: 'A=1\nb=2\nA=3\n',
    });
    assert.equal(second.changed, false);
    assert.deepEqual(second.result, { rc: 0, msg: '' });
  });
  it('only between after and before (the first such section)', async () => {
    const path = sb.p('f');
    writeFileSync(path, 'x=1\n[s]\nx=2\n[t]\nx=3\n');
    await converge(replace, { path, regexp: '^x=', replace: 'y=', after: '\\[s\\]', before: '\\[t\\]' }, sb);
    assert.equal(readFileSync(path, 'utf8'), 'x=1\n[s]\ny=2\n[t]\nx=3\n');
    await converge(replace, { path, regexp: '^x=', replace: 'z=', after: '\\[t\\]' }, sb);
    assert.equal(readFileSync(path, 'utf8'), 'x=1\n[s]\ny=2\n[t]\nz=3\n');
    const miss = await planWith(replace, { path, regexp: 'x', after: 'nomatch' }, sandboxCtx(sb));
    assert.equal(miss.changed, false);
    assert.equal(miss.msg, 'Pattern for before/after params did not match the given file: nomatch(?P<subsection>.*)');
  });
  it('a missing path fails (rc 257), a directory too (rc 256); a symlink is followed', async () => {
    const missing = await planWith(replace, { path: sb.p('no'), regexp: 'a' }, sandboxCtx(sb));
    assert.equal(missing.failed, `Path ${sb.p('no')} does not exist !`);
    assert.equal(missing.result?.rc, 257);
    mkdirSync(sb.p('d'));
    assert.equal((await planWith(replace, { path: sb.p('d'), regexp: 'a' }, sandboxCtx(sb))).result?.rc, 256);
    writeFileSync(sb.p('real'), 'aaa\n');
    symlinkSync('real', sb.p('link'));
    await converge(replace, { path: sb.p('link'), regexp: 'a', replace: 'b' }, sb);
    assert.equal(readFileSync(sb.p('real'), 'utf8'), 'bbb\n');
  });
  it('mode alone: "ownership, perms or SE linux context changed"; check mode writes nothing', async () => {
    const path = sb.p('f');
    writeFileSync(path, 'k\n', { mode: 0o644 });
    const plan = await planWith(replace, { path, regexp: 'nomatch', mode: '0600' }, sandboxCtx(sb));
    assert.equal(plan.msg, 'ownership, perms or SE linux context changed');
    const check = await planWith(replace, { path, regexp: 'k', replace: 'K' }, sandboxCtx(sb, { check: true }));
    assert.equal(check.changed, true);
    assert.equal(readFileSync(path, 'utf8'), 'k\n');
  });
});
