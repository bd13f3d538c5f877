import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { blockinfile } from '../../../src/engine/modules/blockinfile.js';
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

const B = '# BEGIN ANSIBLE MANAGED BLOCK';
const E = '# END ANSIBLE MANAGED BLOCK';

const cases: TextFileCase[] = [
  {
    name: 'appended at EOF',
    before: 'user1\nuser2\n',
    args: { block: 'x\ny' },
    after: `user1\nuser2\n${B}\nx\ny\n${E}\n`,
  },
  {
    name: 'appended to a file missing its trailing newline',
    before: 'user1\nuser2',
    args: { block: 'x' },
    after: `user1\nuser2\n${B}\nx\n${E}\n`,
  },
  {
    name: 'replaced in place, lines before and after untouched',
    before: `head 1\nhead 2\n${B}\nold\nold2\n${E}\ntail 1\ntail 2\n`,
    args: { block: 'new\n' },
    after: `head 1\nhead 2\n${B}\nnew\n${E}\ntail 1\ntail 2\n`,
  },
  {
    name: 'replaced in place, tail line without newline untouched',
    before: `head\n${B}\nold\n${E}\ntail no newline`,
    args: { block: 'new' },
    after: `head\n${B}\nnew\n${E}\ntail no newline`,
  },
  {
    name: 'END marker is the last line without newline: kept so',
    before: `head\n${B}\nold\n${E}`,
    args: { block: 'new' },
    after: `head\n${B}\nnew\n${E}`,
  },
  {
    name: 'same block, END without newline: no change',
    before: `head\n${B}\nsame\n${E}`,
    args: { block: 'same' },
    after: null,
  },
  { name: 'same block: no change', before: `a\n${B}\nx\n${E}\nb\n`, args: { block: 'x' }, after: null },
  { name: 'absent removes only the block', before: `a\n${B}\nx\n${E}\nb`, args: { state: 'absent' }, after: 'a\nb' },
  {
    name: 'absent without a block: no change (even without trailing newline)',
    before: 'a\nb',
    args: { state: 'absent' },
    after: null,
  },
  { name: 'empty block removes the block', before: `a\n${B}\nx\n${E}\n`, args: { block: '' }, after: 'a\n' },
  { name: 'insertbefore BOF', before: 'a\n', args: { block: 'x', insertbefore: 'BOF' }, after: `${B}\nx\n${E}\na\n` },
  {
    name: 'insertafter regex (last match)',
    before: '[s]\na\n[s]\nb\n',
    args: { block: 'x', insertafter: '^\\[s\\]' },
    after: `[s]\na\n[s]\n${B}\nx\n${E}\nb\n`,
  },
  {
    name: 'insertbefore regex',
    before: 'a\nexit 0\n',
    args: { block: 'x', insertbefore: '^exit' },
    after: `a\n${B}\nx\n${E}\nexit 0\n`,
  },
  {
    name: 'insertafter without match: EOF',
    before: 'a\n',
    args: { block: 'x', insertafter: '^nomatch' },
    after: `a\n${B}\nx\n${E}\n`,
  },
  {
    name: 'custom marker and marker_begin/end',
    before: 'a\n',
    args: { block: 'x', marker: '<!-- {mark} relay -->', marker_begin: 'start', marker_end: 'stop' },
    after: 'a\n<!-- start relay -->\nx\n<!-- stop relay -->\n',
  },
  {
    name: 'a stray BEGIN without END is left alone; a new block is added',
    before: `a\n${B}\nb\n`,
    args: { block: 'x' },
    after: `a\n${B}\nb\n${B}\nx\n${E}\n`,
  },
  {
    name: 'an END before the BEGIN: user lines between them are kept',
    before: `${E}\nmine\n${B}\nx\n${E}\n`,
    args: { block: 'y' },
    after: `${E}\nmine\n${B}\ny\n${E}\n`,
  },
  {
    name: 'CRLF markers are recognised',
    before: `a\r\n${B}\r\nold\r\n${E}\r\nb\r\n`,
    args: { block: 'new' },
    after: `a\r\n${B}\nnew\n${E}\nb\r\n`,
  },
];

describe('blockinfile', () => {
  const sb = sandboxPerTest();

  textFileCases(blockinfile, cases, () => sb, 'f');

  it('lines outside the markers are byte-identical across block changes', async () => {
    const path = sb.p('sshd_config');
    const head = 'Port 22\n# a user comment  with  spaces \t\nPermitRootLogin no';
    const tail = 'Match User relay\n  PermitOpen none\nlast line without newline';
    writeFileSync(path, `${head}\n${tail}`);
    await converge(blockinfile, { path, block: 'X 1', insertafter: '^PermitRootLogin' }, sb);
    const v1 = readFileSync(path, 'utf8');
    assert.equal(v1, `${head}\n${B}\nX 1\n${E}\n${tail}`);
    for (const block of ['X 2\nY 2', 'Z', '']) {
      const { second } = await converge(blockinfile, { path, block, insertafter: '^PermitRootLogin' }, sb);
      assert.equal(second.changed, false);
      const text = readFileSync(path, 'utf8');
      assert.ok(text.startsWith(`${head}\n`), 'head untouched');
      assert.ok(text.endsWith(tail), 'tail untouched');
    }
    assert.equal(readFileSync(path, 'utf8'), `${head}\n${tail}`);
  });

  it('create: a missing file (and its parent) with mode; without create it fails', async () => {
    const path = sb.p('d', 'new');
    const fail = await planWith(blockinfile, { path, block: 'x' }, sandboxCtx(sb));
    assert.equal(fail.failed, `Path ${path} does not exist !`);
    const { first, second } = await converge(blockinfile, { path, block: 'x', create: true, mode: '0600' }, sb);
    assert.equal(first.msg, 'File created and ownership, perms or SE linux context changed'); // Ansible: made 0644, then chmod
    assert.equal(readFileSync(path, 'utf8'), `${B}\nx\n${E}\n`);
    assert.equal(modeOf(path), '0600');
    assert.equal(second.changed, false);
  });

  it('check mode writes nothing', async () => {
    writeFileSync(sb.p('f'), 'a\n');
    const before = snapshot(sb.dir);
    const p = await planWith(
      blockinfile,
      { path: sb.p('f'), block: 'x', mode: '0600' },
      sandboxCtx(sb, { check: true }),
    );
    const p2 = await planWith(
      blockinfile,
      { path: sb.p('g'), block: 'x', create: true },
      sandboxCtx(sb, { check: true }),
    );
    assert.equal(p.changed, true);
    assert.equal(p2.changed, true);
    assert.deepEqual(snapshot(sb.dir), before);
    assert.equal(exists(sb.p('g')), false);
  });

  it('a marker without {mark} is refused', async () => {
    writeFileSync(sb.p('f'), '');
    const p = await planWith(blockinfile, { path: sb.p('f'), block: 'x', marker: '# relay' }, sandboxCtx(sb));
    assert.match(String(p.failed), /same line/);
  });

  it('schema', () => {
    const ok = (a: unknown) => argProblems(blockinfile, 'blockinfile', a).length === 0;
    assert.ok(ok({ path: '/x', block: 'a' }));
    assert.ok(ok({ dest: '/x', state: 'absent' }));
    assert.ok(!ok({ block: 'a' }));
    assert.ok(!ok({ path: '/x', block: 'a', insertafter: 'EOF', insertbefore: 'BOF' }));
    assert.ok(ok({ path: '/x', block: 'a', backup: true }));
    assert.ok(!ok({ path: '/x', block: 'a', backup: 'maybe' }));
    assert.ok(ok({ path: '/x', block: 'a', unsafe_writes: true }));
    assert.ok(!ok({ path: '/x', block: 'a', seuser: 'x' }));
  });
});
