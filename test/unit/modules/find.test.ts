// find: argument rows, Python's fnmatch, and real walks of a sandbox (this machine's find, as a host's):
// os.walk's order, the filters, checksums and contents.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { find, fnmatch } from '../../../src/engine/modules/find.js';
import type { Module } from '../../../src/engine/modules/types.js';
import { argTable, planWith, sandboxCtx, sandboxPerTest } from './fake-host.js';

describe('find', () => {
  const sb = sandboxPerTest();
  argTable(find as Module<never>, [
    [{ paths: '/srv' }, true],
    [{ paths: ['/srv', '/tmp'], patterns: ['*.txt'], excludes: 'a*', recurse: true, file_type: 'any' }, true],
    [{ path: '/srv', pattern: '*.txt', exclude: 'x', age: '-2d', size: '10k', age_stamp: 'ctime', depth: 2 }, true],
    [{ name: '/srv', contains: 'x', read_whole_file: true, hidden: true, follow: true, get_checksum: true }, true],
    [{ paths: '/srv', use_regex: 'yes' }, true],
    [{}, false],
    [{ paths: '/srv', path: '/tmp' }, false],
    [{ paths: '/srv', patterns: 'a', pattern: 'b' }, false],
    [{ paths: '/srv', file_type: 'socket' }, false],
    [{ paths: '/srv', depth: 'deep' }, false],
    [{ paths: '/srv', mode: '0644' }, false],
  ]);

  it("Python's fnmatch: *, ?, sets, negated sets, an unclosed [, case", () => {
    const rows: [string, string, boolean][] = [
      ['a.txt', '*.txt', true],
      ['a.txt', '*.TXT', false],
      ['.a', '*', true],
      ['ab', 'a?', true],
      ['abc', 'a?', false],
      ['a1', 'a[0-9]', true],
      ['ax', 'a[!0-9]', true],
      ['a1', 'a[!0-9]', false],
      ['a[', 'a[', true],
      ['a]', 'a[]]', true],
      ['a.b', 'a.b', true],
      ['axb', 'a.b', false],
    ];
    for (const [name, pattern, want] of rows) assert.equal(fnmatch(name, pattern), want, `${name} ~ ${pattern}`);
  });

  const tree = () => {
    mkdirSync(sb.p('t/a/b'), { recursive: true });
    mkdirSync(sb.p('t/.h'));
    writeFileSync(sb.p('t/one.txt'), 'hello\nport=1\n');
    writeFileSync(sb.p('t/two.log'), 'x');
    writeFileSync(sb.p('t/.hidden.txt'), '');
    writeFileSync(sb.p('t/.h/in.txt'), '');
    writeFileSync(sb.p('t/a/three.txt'), 'say port=2\n');
    writeFileSync(sb.p('t/a/b/big.txt'), ' '.repeat(2000));
    symlinkSync('one.txt', sb.p('t/link.txt'));
    symlinkSync('a', sb.p('t/dirlink'));
    utimesSync(sb.p('t/a/b/big.txt'), new Date('2020-01-01'), new Date('2020-01-01'));
  };
  const paths = async (args: Record<string, unknown>) => {
    const plan = await planWith(find, { paths: sb.p('t'), ...args } as never, sandboxCtx(sb));
    assert.equal(plan.changed, false);
    assert.deepEqual(plan.steps, []);
    return (plan.result!.files as { path: string }[]).map((f) => f.path.slice(sb.p('t').length + 1)).sort();
  };

  it('defaults: regular files at the top, not hidden; the fields of os.lstat', async () => {
    tree();
    assert.deepEqual(await paths({}), ['one.txt', 'two.log']);
    const plan = await planWith(find, { paths: sb.p('t'), patterns: 'one.txt' }, sandboxCtx(sb));
    const f = (plan.result!.files as Record<string, unknown>[])[0];
    assert.equal(f.path, sb.p('t/one.txt'));
    assert.equal(f.isreg, true);
    assert.equal(f.size, 13);
    assert.equal(typeof f.mtime, 'number');
    assert.equal(plan.result!.matched, 1);
    assert.equal(plan.result!.msg, 'All paths examined');
    assert.equal(plan.result!.examined, 7, 'every entry of the top directory, hidden ones too');
  });

  it('recurse, hidden, file types, patterns, excludes, regexes', async () => {
    tree();
    // As os.walk: a hidden directory is walked; only names starting with a dot are left out.
    assert.deepEqual(await paths({ recurse: true }), ['.h/in.txt', 'a/b/big.txt', 'a/three.txt', 'one.txt', 'two.log']);
    assert.deepEqual(await paths({ recurse: true, hidden: true, patterns: '*.txt' }), [
      '.h/in.txt',
      '.hidden.txt',
      'a/b/big.txt',
      'a/three.txt',
      'one.txt',
    ]);
    assert.deepEqual(await paths({ recurse: true, file_type: 'directory' }), ['a', 'a/b']);
    assert.deepEqual(await paths({ recurse: true, file_type: 'link' }), ['dirlink', 'link.txt']);
    assert.deepEqual(await paths({ file_type: 'any', patterns: '*.txt,*.log,dir*', excludes: '*.log' }), [
      'dirlink',
      'link.txt',
      'one.txt',
    ]);
    assert.deepEqual(await paths({ recurse: true, use_regex: true, patterns: ['t.*\\.(txt|log)$'] }), [
      'a/three.txt',
      'two.log',
    ]);
  });

  it('contains (line by line with re.match, or the whole file), size, age, depth', async () => {
    tree();
    assert.deepEqual(await paths({ recurse: true, contains: 'port=\\d' }), ['one.txt']);
    assert.deepEqual(await paths({ recurse: true, contains: 'port=\\d', read_whole_file: true }), [
      'a/three.txt',
      'one.txt',
    ]);
    assert.deepEqual(await paths({ recurse: true, size: '1k' }), ['a/b/big.txt']);
    assert.deepEqual(await paths({ recurse: true, size: '-1' }), ['.h/in.txt', 'two.log']);
    assert.deepEqual(await paths({ recurse: true, age: '1w' }), ['a/b/big.txt']);
    assert.deepEqual(await paths({ recurse: true, age: '-1d' }), ['.h/in.txt', 'a/three.txt', 'one.txt', 'two.log']);
    assert.deepEqual(await paths({ recurse: true, depth: 1, file_type: 'any' }), [
      'a',
      'dirlink',
      'link.txt',
      'one.txt',
      'two.log',
    ]);
  });

  it("os.walk's order: each directory's files, then its directories, then below them", async () => {
    tree();
    const plan = await planWith(find, { paths: sb.p('t'), recurse: true, file_type: 'any' }, sandboxCtx(sb));
    const got = (plan.result!.files as { path: string; isdir: boolean }[]).map((f) =>
      f.path.slice(sb.p('t').length + 1),
    );
    const depth = (p: string) => p.split('/').length;
    // Everything of the top comes before anything below it; below a, a's own entries first.
    const firstDeep = got.findIndex((p) => depth(p) > 1);
    assert.ok(
      got.slice(firstDeep).every((p) => depth(p) > 1),
      got.join(' '),
    );
    const top = got.slice(0, firstDeep);
    const dirsAt = top.map((p) => p === 'a' || p === 'dirlink');
    assert.ok(dirsAt.indexOf(true) >= dirsAt.lastIndexOf(false), `files before directories: ${top.join(' ')}`);
  });

  it('checksums as SHA-1; a path that is no directory is skipped with a warning', async () => {
    tree();
    const plan = await planWith(
      find,
      { paths: [sb.p('t'), sb.p('t/one.txt')], get_checksum: true, patterns: 'one.txt' },
      sandboxCtx(sb),
    );
    const [f] = plan.result!.files as { checksum: string }[];
    assert.equal(f.checksum, createHash('sha1').update('hello\nport=1\n').digest('hex'));
    assert.deepEqual(plan.result!.skipped_paths, { [sb.p('t/one.txt')]: `'${sb.p('t/one.txt')}' is not a directory` });
    assert.equal(plan.result!.msg, 'Not all paths examined, check warnings for details');
  });

  it('a bad age or size fails as Ansible says', async () => {
    const plan = await planWith(find, { paths: sb.dir, age: '3 days' }, sandboxCtx(sb));
    assert.equal(plan.failed, 'failed to process age');
  });
});
