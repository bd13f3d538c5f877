import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { file, ancestors, normPath } from '../../../src/engine/modules/file.js';
import { argProblems } from '../../../src/engine/modules/args.js';
import { applyPlan, converge, exists, modeOf, planWith, sandboxPerTest, sandboxCtx, snapshot } from './fake-host.js';

describe('file: paths', () => {
  it('normPath / ancestors', () => {
    assert.equal(normPath('/a//b/'), '/a/b');
    assert.equal(normPath('/'), '/');
    assert.deepEqual(ancestors('/a/b/c'), ['/a', '/a/b']);
    assert.deepEqual(ancestors('a/b'), ['a']);
    assert.deepEqual(ancestors('/a'), []);
  });
});

describe('file', () => {
  const sb = sandboxPerTest();

  it('directory: creates every missing level with the mode, then is idempotent', async () => {
    mkdirSync(sb.p('base'));
    const { first, second } = await converge(
      file,
      { path: sb.p('base', 'x', 'y'), state: 'directory', mode: '0750' },
      sb,
    );
    assert.equal(first.changed, true);
    assert.equal(first.steps[0].describe, `mkdir -p ${sb.p('base', 'x', 'y')}`);
    assert.equal(modeOf(sb.p('base', 'x')), '0750', 'a created parent gets the mode too');
    assert.equal(modeOf(sb.p('base', 'x', 'y')), '0750');
    assert.notEqual(modeOf(sb.p('base')), '0750', 'an existing parent is left alone');
    assert.deepEqual(first.diff?.[0], {
      before_header: sb.p('base', 'x', 'y'),
      after_header: sb.p('base', 'x', 'y'),
      before: `path: ${sb.p('base', 'x', 'y')}\nstate: absent\n`,
      after: `path: ${sb.p('base', 'x', 'y')}\nstate: directory\nmode: 0750\n`,
    });
    assert.equal(second.changed, false);
    assert.deepEqual(second.steps, []);
    assert.equal(second.result?.mode, '0750');
  });

  it('directory: fixes the mode of an existing one, with an attribute diff', async () => {
    mkdirSync(sb.p('d'), { mode: 0o755 });
    const { first, second } = await converge(file, { path: sb.p('d'), state: 'directory', mode: '0700' }, sb);
    assert.equal(first.changed, true);
    assert.deepEqual(first.diff, [
      {
        before_header: `${sb.p('d')} (attributes)`,
        after_header: `${sb.p('d')} (attributes)`,
        before: 'mode: 0755\n',
        after: 'mode: 0700\n',
      },
    ]);
    assert.equal(modeOf(sb.p('d')), '0700');
    assert.equal(second.changed, false);
  });

  it('directory: an integer mode from YAML 1.2 (0755 read as 755) means 0755', async () => {
    const { second } = await converge(file, { path: sb.p('n'), state: 'directory', mode: 755 }, sb);
    assert.equal(modeOf(sb.p('n')), '0755');
    assert.equal(second.changed, false);
  });

  it('directory: fails over a file, or below a file', async () => {
    writeFileSync(sb.p('f'), '');
    const p1 = await planWith(file, { path: sb.p('f'), state: 'directory' }, sandboxCtx(sb));
    assert.match(String(p1.failed), /already exists as a file/);
    const p2 = await planWith(file, { path: sb.p('f', 'sub', 'x'), state: 'directory' }, sandboxCtx(sb));
    assert.match(String(p2.failed), /f exists and is not a directory/);
  });

  it('owner/group: chown to nobody:nogroup', async () => {
    mkdirSync(sb.p('o'));
    const { first, second } = await converge(
      file,
      { path: sb.p('o'), state: 'directory', owner: 'nobody', group: 'nogroup' },
      sb,
    );
    assert.equal(first.steps.length, 1);
    assert.match(first.steps[0].command, /^sh -c 'chown -h -- "\$1" "\$2"' sh nobody:nogroup /);
    assert.equal(statSync(sb.p('o')).uid, 65534);
    assert.equal(statSync(sb.p('o')).gid, 65534);
    assert.equal(second.changed, false);
  });

  it('touch: creates a missing file (a change), then only fixes attributes', async () => {
    const { first, second } = await converge(file, { path: sb.p('t'), state: 'touch', mode: '0600' }, sb);
    assert.equal(first.changed, true);
    assert.equal(modeOf(sb.p('t')), '0600');
    assert.equal(second.changed, false, 'an existing file is not re-touched');
    const mtime = statSync(sb.p('t')).mtimeMs;
    const p = await planWith(file, { path: sb.p('t'), state: 'touch' }, sandboxCtx(sb));
    applyPlan(p, sb);
    assert.equal(statSync(sb.p('t')).mtimeMs, mtime);
  });

  it('file: must exist; fixes attributes; fails on a directory', async () => {
    const missing = await planWith(file, { path: sb.p('nope') }, sandboxCtx(sb));
    assert.equal(missing.failed, `file (${sb.p('nope')}) is absent, cannot continue`);
    assert.deepEqual(missing.steps, []);
    writeFileSync(sb.p('f'), 'x', { mode: 0o644 });
    const { first, second } = await converge(file, { path: sb.p('f'), mode: '0640' }, sb);
    assert.equal(first.steps.length, 1);
    assert.equal(modeOf(sb.p('f')), '0640');
    assert.equal(second.changed, false);
    mkdirSync(sb.p('d'));
    const dir = await planWith(file, { dest: sb.p('d'), state: 'file' }, sandboxCtx(sb));
    assert.match(String(dir.failed), /is directory, cannot continue/);
  });

  it('follows a symlink to its target for attributes', async () => {
    writeFileSync(sb.p('target'), 'x', { mode: 0o644 });
    symlinkSync('target', sb.p('link'));
    const { second } = await converge(file, { path: sb.p('link'), mode: '0600' }, sb);
    assert.equal(modeOf(sb.p('target')), '0600');
    assert.ok(lstatSync(sb.p('link')).isSymbolicLink());
    assert.equal(second.changed, false);
  });

  it('absent: removes a tree or a symlink (not its target); absent is a no-op', async () => {
    mkdirSync(sb.p('tree', 'a'), { recursive: true });
    writeFileSync(sb.p('tree', 'a', 'f'), 'x');
    const { first, second } = await converge(file, { path: sb.p('tree'), state: 'absent' }, sb);
    assert.equal(first.changed, true);
    assert.equal(first.diff?.[0].before, `path: ${sb.p('tree')}\nstate: directory\n`);
    assert.equal(first.diff?.[0].after, `path: ${sb.p('tree')}\nstate: absent\n`);
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
    ];
    for (const args of cases) {
      const plan = await planWith(file, args as never, sandboxCtx(sb, { check: true }));
      assert.equal(plan.changed, true, JSON.stringify(args));
    }
    assert.deepEqual(snapshot(sb.dir), before);
  });

  it('one read per task', async () => {
    const ctx = sandboxCtx(sb);
    await planWith(file, { path: sb.p('a', 'b', 'c'), state: 'directory' }, ctx);
    assert.equal(ctx.reads.length, 1);
  });

  it('schema: path aliases, states', () => {
    const ok = (a: unknown) => argProblems(file, 'file', a).length === 0;
    assert.ok(ok({ path: '/x' }));
    assert.ok(ok({ dest: '/x', state: 'touch' }));
    assert.ok(!ok({ path: '/x', state: 'link' }));
    assert.ok(!ok({ state: 'directory' }));
    assert.ok(!ok({ path: '/x', recurse: true }));
  });
});
