import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { lineinfile } from '../../../src/engine/modules/lineinfile.js';
import { argProblems } from '../../../src/engine/modules/args.js';
import {
  converge,
  exists,
  modeOf,
  planWith,
  sandboxPerTest,
  sandboxCtx,
  snapshot,
  textFileCases,
  type TextFileCase,
} from './fake-host.js';

// Content in, arguments, content out (null = no change) — Ansible's lineinfile semantics.
const cases: TextFileCase[] = [
  {
    name: 'regexp replaces the LAST matching line',
    before: 'a=1\nb=2\na=3\n',
    args: { regexp: '^a=', line: 'a=9' },
    after: 'a=1\nb=2\na=9\n',
    msg: 'line replaced',
  },
  {
    name: 'firstmatch replaces the first',
    before: 'a=1\nb=2\na=3\n',
    args: { regexp: '^a=', line: 'a=9', firstmatch: true },
    after: 'a=9\nb=2\na=3\n',
  },
  { name: 'regexp already satisfied', before: 'a=1\nx=2\n', args: { regexp: '^x=', line: 'x=2' }, after: null },
  {
    name: 'no match: appended at EOF',
    before: 'a=1\n',
    args: { regexp: '^x=', line: 'x=2' },
    after: 'a=1\nx=2\n',
    msg: 'line added',
  },
  {
    name: 'no trailing newline: one is added before appending',
    before: 'a=1',
    args: { line: 'x=2' },
    after: 'a=1\nx=2\n',
  },
  {
    name: 'exact line present anywhere: no change',
    before: 'x=2\na=1\n',
    args: { line: 'x=2', insertafter: '^a=' },
    after: null,
  },
  {
    name: 'exact line as last line without newline gains one',
    before: 'a\nx=2',
    args: { line: 'x=2' },
    after: 'a\nx=2\n',
    msg: 'line replaced',
  },
  {
    name: 'regexp does not match but the exact line exists: no change',
    before: 'x=2\n',
    args: { regexp: '^y=', line: 'x=2' },
    after: null,
  },
  {
    name: 'insertafter regex: after the last match',
    before: '[a]\nk=1\n[a]\nk=2\nend\n',
    args: { line: 'new', insertafter: '^\\[a\\]' },
    after: '[a]\nk=1\n[a]\nnew\nk=2\nend\n',
  },
  {
    name: 'insertafter with firstmatch',
    before: '[a]\nk=1\n[a]\n',
    args: { line: 'new', insertafter: '^\\[a\\]', firstmatch: true },
    after: '[a]\nnew\nk=1\n[a]\n',
  },
  {
    name: 'insertafter the last line (no newline)',
    before: 'a\n[s]',
    args: { line: 'new', insertafter: '^\\[s\\]' },
    after: 'a\n[s]\nnew\n',
  },
  {
    name: 'insertafter not matching: EOF',
    before: 'a\n',
    args: { line: 'new', insertafter: '^zzz' },
    after: 'a\nnew\n',
  },
  {
    name: 'insertbefore regex: before the last match',
    before: 'x\n#end\ny\n#end\n',
    args: { line: 'new', insertbefore: '^#end' },
    after: 'x\n#end\ny\nnew\n#end\n',
  },
  { name: 'insertbefore BOF', before: 'a\nb\n', args: { line: 'first', insertbefore: 'BOF' }, after: 'first\na\nb\n' },
  { name: 'insertafter BOF', before: 'a\n', args: { line: 'first', insertafter: 'BOF' }, after: 'first\na\n' },
  {
    name: 'regexp wins over insertafter',
    before: 'PORT=1\n[x]\n',
    args: { regexp: '^PORT=', line: 'PORT=2', insertafter: '^\\[x\\]' },
    after: 'PORT=2\n[x]\n',
  },
  {
    name: 'search_string',
    before: 'listen 80;\nfoo\n',
    args: { search_string: 'listen ', line: 'listen 8080;' },
    after: 'listen 8080;\nfoo\n',
  },
  {
    name: 'backrefs expand groups',
    before: 'port = 22\n',
    args: { regexp: '^(\\w+) = \\d+$', line: '\\1 = 2222', backrefs: true },
    after: 'port = 2222\n',
  },
  {
    name: 'backrefs, Python named groups',
    before: 'user=bob\n',
    args: { regexp: '^(?P<k>user)=.*', line: '\\g<k>=alice', backrefs: true },
    after: 'user=alice\n',
  },
  {
    name: 'backrefs without a match: unchanged',
    before: 'a\n',
    args: { regexp: '^nomatch(.*)', line: '\\1', backrefs: true },
    after: null,
  },
  {
    name: '(?i) inline flag',
    before: 'PermitRootLogin yes\n',
    args: { regexp: '(?i)^permitrootlogin', line: 'PermitRootLogin no' },
    after: 'PermitRootLogin no\n',
  },
  {
    name: '$ matches before the newline as in Python',
    before: 'a=1\n',
    args: { regexp: '^a=1$', line: 'a=2' },
    after: 'a=2\n',
  },
  {
    name: 'absent: every matching line removed',
    before: 'a=1\nb\na=2\n',
    args: { regexp: '^a=', state: 'absent' },
    after: 'b\n',
    msg: '2 line(s) removed',
  },
  { name: 'absent: exact line', before: 'x\ny\nx \n', args: { line: 'x', state: 'absent' }, after: 'y\nx \n' },
  { name: 'absent: nothing matches', before: 'y\n', args: { line: 'x', state: 'absent' }, after: null },
  {
    name: 'absent: search_string',
    before: 'keep\ndrop me\n',
    args: { search_string: 'drop', state: 'absent' },
    after: 'keep\n',
  },
  { name: 'empty file', before: '', args: { line: 'x' }, after: 'x\n' },
  // Ansible's aliases (test/differential/cases/edit-aliases.yml).
  { name: 'regex and value', before: 'a=1\n', args: { regex: '^a=', value: 'a=2' }, after: 'a=2\n' },
  {
    name: 'regex wins over regexp',
    before: 'a=1\nb=2\n',
    args: { regexp: '^a=', regex: '^b=', line: 'b=3' },
    after: 'a=1\nb=3\n',
  },
  { name: 'absent: value', before: 'a=1\nb=2\n', args: { value: 'a=1', state: 'absent' }, after: 'b=2\n' },
];

describe('lineinfile', () => {
  const sb = sandboxPerTest();

  textFileCases(lineinfile, cases, () => sb, 'f.conf');

  it("an alias given with its option wins, with Ansible's warning", async () => {
    const path = sb.p('f');
    writeFileSync(path, 'a=1\n');
    const both = await planWith(lineinfile, { destfile: path, line: 'x', value: 'y' }, sandboxCtx(sb));
    assert.deepEqual(both.result!.warnings, ['Both option line and its alias value are set.']);
    const one = await planWith(lineinfile, { path, value: 'y' }, sandboxCtx(sb));
    assert.equal(one.result!.warnings, undefined);
    assert.equal(argProblems(lineinfile, 'lineinfile', { path, regex: 'a', search_string: 'a', line: 'x' }).length, 1);
  });

  it('missing file: fails without create, creates with it (parents too, with mode)', async () => {
    const path = sb.p('sub', 'dir', 'new.conf');
    const fail = await planWith(lineinfile, { path, line: 'x' }, sandboxCtx(sb));
    assert.equal(fail.failed, `Destination ${path} does not exist !`);
    const { first, second } = await converge(lineinfile, { path, line: 'x', create: true, mode: '0600' }, sb);
    assert.equal(first.changed, true);
    assert.equal(readFileSync(path, 'utf8'), 'x\n');
    assert.equal(modeOf(path), '0600');
    assert.equal(second.changed, false);
    const absent = await planWith(lineinfile, { path: sb.p('none'), line: 'x', state: 'absent' }, sandboxCtx(sb));
    assert.equal(absent.changed, false);
  });

  it("results as Ansible's: msg always, backup, its two-part diff (contents in diff mode only), rc", async () => {
    const path = sb.p('f');
    writeFileSync(path, 'a=1\n', { mode: 0o644 });
    const header = (kind: string) => ({ before_header: `${path} (${kind})`, after_header: `${path} (${kind})` });
    const changed = await planWith(lineinfile, { path, line: 'b=2', mode: '0600' }, sandboxCtx(sb));
    assert.deepEqual(changed.result, {
      backup: '',
      msg: 'line added and ownership, perms or SE linux context changed',
      diff: [
        { before: '', after: '', ...header('content') },
        { before: { mode: '0644' }, after: { mode: '0600' }, ...header('file attributes') },
      ],
    });
    const shown = await planWith(lineinfile, { path, line: 'b=2' }, sandboxCtx(sb, { diff: true }));
    assert.deepEqual((shown.result!.diff as unknown[])[0], {
      before: 'a=1\n',
      after: 'a=1\nb=2\n',
      ...header('content'),
    });
    const same = await planWith(lineinfile, { path, line: 'a=1' }, sandboxCtx(sb));
    assert.equal(same.result!.msg, '');
    const gone = await planWith(lineinfile, { path, line: 'a=1', state: 'absent' }, sandboxCtx(sb));
    assert.equal(gone.result!.found, 1);
    assert.equal(gone.result!.msg, '1 line(s) removed');
    // In check mode a file not there yet: only the content part, as Ansible stops before its attributes.
    const newPath = sb.p('n');
    const p = await planWith(lineinfile, { path: newPath, line: 'x', create: true }, sandboxCtx(sb, { check: true }));
    assert.deepEqual(p.result!.diff, {
      before: '',
      after: '',
      before_header: `${newPath} (content)`,
      after_header: `${newPath} (content)`,
    });
    const missing = await planWith(lineinfile, { path: newPath, line: 'x' }, sandboxCtx(sb));
    assert.deepEqual(missing.result, { rc: 257 });
    const dir = await planWith(lineinfile, { path: sb.dir, line: 'x' }, sandboxCtx(sb));
    assert.deepEqual([dir.failed, dir.result], [`Path ${sb.dir} is a directory !`, { rc: 256 }]);
  });

  it('a symbolic mode, as the file module takes it', async () => {
    const path = sb.p('f');
    writeFileSync(path, 'x\n', { mode: 0o600 });
    const { second } = await converge(lineinfile, { path, line: 'x', mode: 'g+r,o+r' }, sb);
    assert.equal(modeOf(path), '0644');
    assert.equal(second.changed, false);
  });

  it('only attributes differ: chmod in place, no rewrite', async () => {
    const path = sb.p('f');
    writeFileSync(path, 'x\n', { mode: 0o644 });
    const { first, second } = await converge(lineinfile, { path, line: 'x', mode: '0640' }, sb);
    assert.equal(first.changed, true);
    assert.equal(first.steps.length, 1);
    assert.match(first.steps[0].command, /chmod/);
    assert.equal(modeOf(path), '0640');
    assert.equal(second.changed, false);
  });

  it('a symlinked file is edited through the link', async () => {
    writeFileSync(sb.p('real'), 'a\n');
    const { symlinkSync, lstatSync } = await import('node:fs');
    symlinkSync('real', sb.p('link'));
    await converge(lineinfile, { path: sb.p('link'), line: 'b' }, sb);
    assert.ok(lstatSync(sb.p('link')).isSymbolicLink());
    assert.equal(readFileSync(sb.p('real'), 'utf8'), 'a\nb\n');
  });

  it('check mode: plans the change, writes nothing', async () => {
    const path = sb.p('f');
    writeFileSync(path, 'a=1\n');
    const before = snapshot(sb.dir);
    const p1 = await planWith(
      lineinfile,
      { path, regexp: '^a=', line: 'a=2', mode: '0600' },
      sandboxCtx(sb, { check: true }),
    );
    const p2 = await planWith(
      lineinfile,
      { path: sb.p('new', 'x'), line: 'a', create: true },
      sandboxCtx(sb, { check: true }),
    );
    assert.equal(p1.changed, true);
    assert.equal(p2.changed, true);
    assert.deepEqual(snapshot(sb.dir), before);
    assert.equal(exists(sb.p('new')), false);
  });

  it('invalid regexp: a clear error', async () => {
    writeFileSync(sb.p('f'), '');
    await assert.rejects(
      planWith(lineinfile, { path: sb.p('f'), regexp: '(', line: 'x' }, sandboxCtx(sb)),
      /invalid regexp "\("/,
    );
  });

  it('schema', () => {
    const ok = (a: unknown) => argProblems(lineinfile, 'lineinfile', a).length === 0;
    assert.ok(ok({ path: '/x', line: 'a' }));
    assert.ok(ok({ path: '/x', regexp: 'a', state: 'absent' }));
    assert.ok(!ok({ path: '/x' }), 'present needs line');
    assert.ok(!ok({ path: '/x', state: 'absent' }), 'absent needs line, regexp or search_string');
    assert.ok(!ok({ path: '/x', line: 'a', insertafter: 'EOF', insertbefore: 'BOF' }));
    assert.ok(!ok({ path: '/x', line: 'a', state: 'gone' }));
    assert.ok(ok({ path: '/x', line: 'a', create: 'yes' }));
  });
});
