import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { file, ancestors, normPath } from '../../../src/engine/modules/file.js';
import { modeText, parseModeArg, symbolicMode } from '../../../src/engine/modules/lib/modes.js';
import { strptime } from '../../../src/engine/modules/lib/strptime.js';
import { argTable, converge, exists, modeOf, planWith, sandboxPerTest, sandboxCtx, snapshot } from './fake-host.js';

describe('file: paths', () => {
  it('normPath / ancestors', () => {
    assert.equal(normPath('/a//b/'), '/a/b');
    assert.equal(normPath('/'), '/');
    assert.deepEqual(ancestors('/a/b/c'), ['/a', '/a/b']);
    assert.deepEqual(ancestors('a/b'), ['a']);
    assert.deepEqual(ancestors('/a'), []);
  });
});

// [spec, mode before, a directory, mode after], as Ansible 2.14's AnsibleModule works them out (umask 022).
const SYMBOLIC: [string, number, boolean, number][] = [
  ['u+x', 0o644, false, 0o744],
  ['u=rwx,g=rx,o=', 0o644, false, 0o750],
  ['a+x', 0o644, false, 0o755],
  ['+x', 0o644, false, 0o755],
  ['=rw', 0o777, false, 0o644],
  ['=r', 0o600, false, 0o444],
  ['a+X', 0o644, false, 0o644],
  ['a+X', 0o744, false, 0o755],
  ['a+X', 0o600, true, 0o711],
  ['u=rwX,g=rX,o=', 0o666, false, 0o640],
  ['u=rwX,g=rX,o=', 0o777, true, 0o750],
  ['g-w,o-rwx', 0o775, false, 0o750],
  ['u+s,g+s', 0o755, false, 0o6755],
  ['o+t', 0o777, true, 0o1777],
  ['u=', 0o4755, false, 0o55],
  ['g=u', 0o740, false, 0o770],
  ['o=g', 0o754, false, 0o755],
  ['u+r-w', 0o600, false, 0o400],
  ['ug+w,o-r', 0o644, false, 0o660],
  ['a=', 0o777, false, 0o0],
  ['-w', 0o666, false, 0o466],
  ['u', 0o644, false, 0o644],
];

describe('file: symbolic modes as Ansible reads them', () => {
  for (const [spec, prev, dir, want] of SYMBOLIC)
    it(`${spec} on ${dir ? 'a directory' : 'a file'} ${modeText(prev)} → ${modeText(want)}`, () =>
      assert.equal(modeText(symbolicMode(spec, prev, dir, 0o022)), modeText(want)));
  it('refuses what Ansible refuses, with its message', () => {
    for (const [bad, clause] of [
      ['u+q', 'u+q'],
      ['z+x', 'z+x'],
      ['a+x,q', 'q'],
    ])
      assert.throws(() => parseModeArg(bad), { message: `bad symbolic permission for mode: ${clause}` });
  });
  it('octal strings, and integers as their value (YAML 1.1)', () => {
    assert.deepEqual(parseModeArg('0644'), { octal: 0o644 });
    assert.deepEqual(parseModeArg('755'), { octal: 0o755 });
    assert.deepEqual(parseModeArg(420), { octal: 0o644 });
    assert.deepEqual(parseModeArg(644), { octal: 0o1204 });
    assert.deepEqual(parseModeArg('u+x'), { symbolic: 'u+x' });
    assert.throws(() => parseModeArg(420.5), /quote it/);
    assert.equal(modeText(0o4755), '04755');
  });
});

describe('file: times as Python strptime reads them', () => {
  const rows: [string, string, string][] = [
    ['202301011200.00', '%Y%m%d%H%M.%S', '2023-01-01 12:00:00'],
    ['2022-06-30 08:15:00', '%Y-%m-%d %H:%M:%S', '2022-06-30 08:15:00'],
    ['30 Jun 22 8:05 PM', '%d %b %y %I:%M %p', '2022-06-30 20:05:00'],
  ];
  for (const [text, format, want] of rows)
    it(`${text} with ${format}`, () => assert.equal(strptime(text, format), want));
  it("Python's errors", () => {
    assert.throws(() => strptime('yesterday', '%Y%m%d%H%M.%S'), {
      message: "time data 'yesterday' does not match format '%Y%m%d%H%M.%S'",
    });
    assert.throws(() => strptime('2023010112000', '%Y%m%d%H%M'), { message: 'unconverted data remains: 0' });
    assert.throws(() => strptime('x', '%Q'), { message: "'Q' is a bad directive in format '%Q'" });
  });
});

describe('file: arguments', () => {
  argTable(file as never, [
    [{ path: '/x' }, true],
    [{ dest: '/x', state: 'touch' }, true],
    [{ name: '/x', state: 'link', src: '/y', force: true, follow: 'no' }, true],
    [{ path: '/x', state: 'hard', src: '/y' }, true],
    [{ path: '/x', state: 'directory', recurse: 'yes', mode: 'u=rwX' }, true],
    [{ path: '/x', modification_time: 'now', access_time: 'preserve', modification_time_format: '%Y' }, true],
    [{ path: '/x', attributes: '+i', unsafe_writes: true }, true],
    [{ path: '/x', attr: 'e' }, true],
    [{ state: 'directory' }, false],
    [{ path: '/x', dest: '/y' }, false],
    [{ path: '/x', state: 'gone' }, false],
    [{ path: '/x', recurse: 'maybe' }, false],
    [{ path: '/x', src: '' }, false],
    [{ path: '/x', selevel: 's0' }, false],
  ]);
});

describe('file', () => {
  const sb = sandboxPerTest();

  it('directory: creates every missing level with the mode, then is idempotent', async () => {
    mkdirSync(sb.p('base'));
    const { first, applied, second } = await converge(
      file,
      { path: sb.p('base', 'x', 'y'), state: 'directory', mode: '0750' },
      sb,
    );
    assert.equal(first.changed, true);
    assert.equal(first.steps[0].describe, `mkdir -p ${sb.p('base', 'x', 'y')}`);
    assert.equal(modeOf(sb.p('base', 'x')), '0750', 'a created parent gets the mode too');
    assert.equal(modeOf(sb.p('base', 'x', 'y')), '0750');
    assert.notEqual(modeOf(sb.p('base')), '0750', 'an existing parent is left alone');
    const y = sb.p('base', 'x', 'y');
    assert.deepEqual(applied.result.diff, {
      before: { path: y, state: 'absent', mode: '0755' },
      after: { path: y, state: 'directory', mode: '0750' },
    });
    assert.equal(applied.result.state, 'directory');
    assert.equal(applied.result.mode, '0750');
    assert.equal(second.changed, false);
    assert.deepEqual(second.steps, []);
    assert.equal(second.result?.mode, '0750');
    assert.deepEqual(second.result?.diff, { before: { path: y }, after: { path: y } });
  });

  it('directory: fixes the mode of an existing one; no state on a directory means directory', async () => {
    mkdirSync(sb.p('d'), { mode: 0o755 });
    const { first, second } = await converge(file, { path: sb.p('d'), mode: '0700' }, sb);
    assert.equal(first.changed, true);
    assert.deepEqual(first.result?.diff, {
      before: { path: sb.p('d'), mode: '0755' },
      after: { path: sb.p('d'), mode: '0700' },
    });
    assert.equal(modeOf(sb.p('d')), '0700');
    assert.equal(second.changed, false);
  });

  it('directory: an integer mode is its value, as YAML 1.1 reads 0755 (493)', async () => {
    const { second } = await converge(file, { path: sb.p('n'), state: 'directory', mode: 0o755 }, sb);
    assert.equal(modeOf(sb.p('n')), '0755');
    assert.equal(second.changed, false);
  });

  it("directory: fails over a file, or below a file, with Ansible's messages", async () => {
    writeFileSync(sb.p('f'), '');
    const p1 = await planWith(file, { path: sb.p('f'), state: 'directory' }, sandboxCtx(sb));
    assert.equal(p1.failed, `${sb.p('f')} already exists as a file`);
    const p2 = await planWith(file, { path: sb.p('f', 'sub', 'x'), state: 'directory' }, sandboxCtx(sb));
    assert.equal(
      p2.failed,
      `There was an issue creating ${sb.p('f', 'sub')} as requested: [Errno 20] Not a directory: '${sb.p('f', 'sub')}'`,
    );
  });

  it('owner/group: one chown to nobody:nogroup, numeric ids in the diff', async () => {
    mkdirSync(sb.p('o'));
    const { first, second } = await converge(
      file,
      { path: sb.p('o'), state: 'directory', owner: 'nobody', group: 'nogroup' },
      sb,
    );
    assert.match(first.steps[0].command, /^sh -c 'chown -h -- "\$1" "\$2"' sh nobody:nogroup /);
    assert.deepEqual((first.result?.diff as { after: unknown }).after, { path: sb.p('o'), owner: 65534, group: 65534 });
    assert.equal(statSync(sb.p('o')).uid, 65534);
    assert.equal(statSync(sb.p('o')).gid, 65534);
    assert.equal(second.changed, false);
    const none = await planWith(file, { path: sb.p('o'), owner: 'no-such-user' }, sandboxCtx(sb));
    assert.equal(none.failed, 'chown failed: failed to look up user no-such-user');
  });

  it('touch: creates a file; touches it again each time, as Ansible; fixed times converge', async () => {
    const { first, second } = await converge(file, { path: sb.p('t'), state: 'touch', mode: '0600' }, sb);
    assert.equal(first.changed, true);
    assert.equal(modeOf(sb.p('t')), '0600');
    assert.equal(second.changed, true, "Ansible's touch sets the times to now: a change each run");
    const fixed = {
      path: sb.p('t'),
      state: 'touch',
      modification_time: '202301011200.00',
      access_time: '202301011200.00',
    };
    const again = await converge(file, fixed as never, sb);
    assert.equal(again.second.changed, false);
    const m = statSync(sb.p('t')).mtime;
    assert.equal(m.getFullYear(), 2023);
    const kept = await converge(
      file,
      { path: sb.p('t'), state: 'touch', modification_time: 'preserve', access_time: 'preserve' } as never,
      sb,
    );
    assert.equal(kept.first.changed, false);
    assert.equal(statSync(sb.p('t')).mtimeMs, m.getTime());
    const bad = await planWith(file, { path: sb.p('t'), modification_time: 'yesterday' }, sandboxCtx(sb));
    assert.equal(
      bad.failed,
      "Error while obtaining timestamp for time yesterday using format %Y%m%d%H%M.%S: time data 'yesterday' does not match format '%Y%m%d%H%M.%S'",
    );
  });

  it("file: must exist (Ansible's message); fixes attributes; fails on a directory", async () => {
    const missing = await planWith(file, { path: sb.p('nope'), state: 'file' }, sandboxCtx(sb));
    assert.equal(missing.failed, `file (${sb.p('nope')}) is absent, cannot continue`);
    assert.deepEqual(missing.result, { path: sb.p('nope'), state: 'absent' });
    assert.deepEqual(missing.steps, []);
    writeFileSync(sb.p('f'), 'x', { mode: 0o644 });
    const { first, second } = await converge(file, { path: sb.p('f'), mode: 'g+w,o-r' }, sb);
    assert.equal(first.steps[0].describe, `chmod 0660 ${sb.p('f')}`);
    assert.equal(modeOf(sb.p('f')), '0660');
    assert.equal(second.changed, false);
    mkdirSync(sb.p('d'));
    const dir = await planWith(file, { dest: sb.p('d'), state: 'file' }, sandboxCtx(sb));
    assert.equal(dir.failed, `file (${sb.p('d')}) is directory, cannot continue`);
  });

  it('follows a symlink to its target; follow: false acts on the link', async () => {
    writeFileSync(sb.p('target'), 'x', { mode: 0o644 });
    symlinkSync('target', sb.p('link'));
    const { first, second } = await converge(file, { path: sb.p('link'), state: 'file', mode: '0600' }, sb);
    assert.equal(first.result?.path, sb.p('target'), 'state file reports the followed path, as Ansible');
    assert.equal(modeOf(sb.p('target')), '0600');
    assert.ok(lstatSync(sb.p('link')).isSymbolicLink());
    assert.equal(second.changed, false);
    const own = await planWith(file, { path: sb.p('link'), mode: '0644', follow: false }, sandboxCtx(sb));
    assert.equal(own.changed, false, 'Linux has no mode on a link: Ansible reports no change');
    assert.deepEqual(own.steps, []);
    assert.equal(own.result?.src, null);
  });

  it('link: made, kept, repointed; refusals without force; over a file with force', async () => {
    writeFileSync(sb.p('f'), 'x');
    const { first, applied, second } = await converge(file, { path: sb.p('l'), state: 'link', src: 'f' }, sb);
    assert.equal(first.changed, true);
    assert.equal(readlinkSync(sb.p('l')), 'f');
    assert.deepEqual(
      { dest: applied.result.dest, src: applied.result.src, state: applied.result.state, mode: applied.result.mode },
      { dest: sb.p('l'), src: 'f', state: 'link', mode: '0777' },
    );
    assert.equal(second.changed, false);
    const nothing = await planWith(file, { path: sb.p('l'), state: 'link', src: 'nothing' }, sandboxCtx(sb));
    assert.equal(
      nothing.failed,
      `src file does not exist, use "force=yes" if you really want to create the link: ${sb.p('nothing')}`,
    );
    const moved = await converge(file, { path: sb.p('l'), state: 'link', src: 'nothing', force: true }, sb);
    assert.deepEqual(moved.first.result?.diff, {
      before: { path: sb.p('l'), src: 'f' },
      after: { path: sb.p('l'), src: 'nothing' },
    });
    assert.deepEqual(moved.first.result?.warnings, [
      'Cannot set fs attributes on a non-existent symlink target. follow should be set to False to avoid this.',
    ]);
    writeFileSync(sb.p('g'), 'x');
    const refused = await planWith(file, { path: sb.p('g'), state: 'link', src: 'f' }, sandboxCtx(sb));
    assert.equal(refused.failed, `refusing to convert from file to symlink for ${sb.p('g')}`);
    await converge(file, { path: sb.p('g'), state: 'link', src: 'f', force: true }, sb);
    assert.equal(readlinkSync(sb.p('g')), 'f');
    mkdirSync(sb.p('full', 'x'), { recursive: true });
    const full = await planWith(file, { path: sb.p('full'), state: 'link', src: 'f', force: true }, sandboxCtx(sb));
    assert.equal(full.failed, `the directory ${sb.p('full')} is not empty, refusing to convert it`);
    mkdirSync(sb.p('empty'));
    await converge(file, { path: sb.p('empty'), state: 'link', src: 'f', force: true }, sb);
    assert.equal(readlinkSync(sb.p('empty')), 'f');
  });

  it('hard: made, kept; over a file only with force; into a directory', async () => {
    writeFileSync(sb.p('f'), 'x');
    const { applied, second } = await converge(file, { path: sb.p('h'), state: 'hard', src: sb.p('f') }, sb);
    assert.equal(statSync(sb.p('h')).ino, statSync(sb.p('f')).ino);
    assert.equal(applied.result.state, 'hard');
    assert.equal(second.changed, false);
    writeFileSync(sb.p('k'), 'y');
    const refused = await planWith(file, { path: sb.p('k'), state: 'hard', src: sb.p('f') }, sandboxCtx(sb));
    assert.equal(refused.failed, 'Cannot link, file exists at destination');
    await converge(file, { path: sb.p('k'), state: 'hard', src: sb.p('f'), force: true }, sb);
    assert.equal(statSync(sb.p('k')).ino, statSync(sb.p('f')).ino);
    mkdirSync(sb.p('d'));
    const into = await converge(file, { path: sb.p('d'), state: 'hard', src: sb.p('f') }, sb);
    assert.equal(into.first.result?.dest, sb.p('d', 'f'));
    assert.equal(statSync(sb.p('d', 'f')).ino, statSync(sb.p('f')).ino);
    const none = await planWith(file, { path: sb.p('h2'), state: 'hard', src: sb.p('nothing') }, sandboxCtx(sb));
    assert.equal(none.failed, 'src does not exist');
  });

  it('recurse: owner and a symbolic mode on the whole tree, then nothing to do', async () => {
    mkdirSync(sb.p('t', 'u'), { recursive: true });
    writeFileSync(sb.p('t', 'u', 'x'), 'x', { mode: 0o666 });
    writeFileSync(sb.p('t', 'y'), 'y', { mode: 0o755 });
    const { first, second } = await converge(
      file,
      { path: sb.p('t'), state: 'directory', recurse: true, mode: 'u=rwX,g=rX,o=' },
      sb,
    );
    assert.equal(first.changed, true);
    assert.equal(modeOf(sb.p('t', 'u', 'x')), '0640');
    assert.equal(modeOf(sb.p('t', 'y')), '0750');
    assert.equal(modeOf(sb.p('t', 'u')), '0750');
    assert.equal(second.changed, false);
    const wrong = await planWith(file, { path: sb.p('t', 'y'), state: 'file', recurse: true }, sandboxCtx(sb));
    assert.equal(wrong.failed, "recurse option requires state to be 'directory'");
  });

  it('times: a modification time in its format, kept the second time', async () => {
    writeFileSync(sb.p('f'), 'x');
    utimesSync(sb.p('f'), 1000, 1000);
    const args = {
      path: sb.p('f'),
      modification_time: '2022-06-30 08:15:00',
      modification_time_format: '%Y-%m-%d %H:%M:%S',
    };
    const { first, second } = await converge(file, args as never, sb);
    assert.equal(first.changed, true);
    assert.equal(statSync(sb.p('f')).atimeMs, 1_000_000, 'access_time preserve');
    assert.equal(second.changed, false);
  });

  it('absent: removes a tree (its content in the diff) or a symlink (not its target)', async () => {
    mkdirSync(sb.p('tree', 'a'), { recursive: true });
    writeFileSync(sb.p('tree', 'a', 'f'), 'x');
    const { first, second } = await converge(file, { path: sb.p('tree'), state: 'absent' }, sb);
    assert.equal(first.changed, true);
    assert.deepEqual(first.result?.diff, {
      before: {
        path: sb.p('tree'),
        state: 'directory',
        path_content: { directories: [sb.p('tree', 'a')], files: [sb.p('tree', 'a', 'f')] },
      },
      after: { path: sb.p('tree'), state: 'absent' },
    });
    assert.equal(exists(sb.p('tree')), false);
    assert.equal(second.changed, false);
    writeFileSync(sb.p('keep'), 'x');
    symlinkSync('keep', sb.p('l'));
    await converge(file, { path: sb.p('l'), state: 'absent' }, sb);
    assert.equal(exists(sb.p('l')), false);
    assert.equal(exists(sb.p('keep')), true);
    const root = await planWith(file, { path: '/', state: 'absent' }, sandboxCtx(sb));
    assert.equal(root.failed, 'refusing to remove /');
  });

  it('check mode: planning never writes, whatever the state', async () => {
    mkdirSync(sb.p('d'), { mode: 0o755 });
    writeFileSync(sb.p('f'), 'x', { mode: 0o644 });
    const before = snapshot(sb.dir);
    const cases = [
      { path: sb.p('new', 'deep'), state: 'directory', mode: '0700' },
      { path: sb.p('d'), state: 'directory', mode: '0700' },
      { path: sb.p('d'), state: 'absent' },
      { path: sb.p('f'), state: 'touch', mode: '0600' },
      { path: sb.p('t'), state: 'touch' },
      { path: sb.p('f'), state: 'file', mode: '0600' },
      { path: sb.p('l'), state: 'link', src: 'f' },
      { path: sb.p('h'), state: 'hard', src: sb.p('f') },
      { path: sb.p('d'), state: 'directory', recurse: true, mode: 'a-x' },
    ];
    for (const args of cases) {
      const plan = await planWith(file, args as never, sandboxCtx(sb, { check: true }));
      assert.equal(plan.changed, true, JSON.stringify(args));
    }
    assert.deepEqual(snapshot(sb.dir), before);
    const touch = await planWith(file, { path: sb.p('t'), state: 'touch' }, sandboxCtx(sb, { check: true }));
    assert.deepEqual(touch.result, { dest: sb.p('t') }, "Ansible's check-mode touch of a new file says only that");
  });

  it('one read per task', async () => {
    const ctx = sandboxCtx(sb);
    await planWith(file, { path: sb.p('a', 'b', 'c'), state: 'directory', recurse: true }, ctx);
    assert.equal(ctx.reads.length, 1);
  });
});
