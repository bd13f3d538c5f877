import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { copy } from '../../../src/engine/modules/copy.js';
import { converge, exists, modeOf, planWith, sandboxCtx, sandboxPerTest, snapshot } from './fake-host.js';

describe('copy: remote_src with a directory src', () => {
  const sb = sandboxPerTest();
  const tree = () => {
    mkdirSync(sb.p('src', 'sub'), { recursive: true });
    writeFileSync(sb.p('src', 'a'), 'a\n', { mode: 0o600 });
    writeFileSync(sb.p('src', 'sub', 'b'), 'b\n');
    symlinkSync('a', sb.p('src', 'lnk'));
  };

  it('itself into a directory: dest/<name>, whole, links as links; then unchanged', async () => {
    tree();
    mkdirSync(sb.p('into'));
    const { first, applied, second } = await converge(
      copy,
      { src: sb.p('src'), dest: sb.p('into'), remote_src: true },
      sb,
    );
    assert.equal(first.changed, true);
    assert.equal(applied.result.dest, sb.p('into', 'src'));
    assert.equal(applied.result.state, 'directory');
    assert.equal(readFileSync(sb.p('into', 'src', 'sub', 'b'), 'utf8'), 'b\n');
    assert.equal(modeOf(sb.p('into', 'src', 'a')), '0600');
    assert.ok(exists(sb.p('into', 'src', 'lnk')));
    assert.equal(second.changed, false);
  });

  it('what is in it, into a directory: only what differs; a link is left out unless local_follow says', async () => {
    tree();
    mkdirSync(sb.p('into'));
    writeFileSync(sb.p('into', 'a'), 'old\n');
    writeFileSync(sb.p('into', 'mine'), 'kept\n');
    const { first, applied } = await converge(
      copy,
      { src: `${sb.p('src')}/`, dest: sb.p('into'), remote_src: true },
      sb,
    );
    assert.equal(first.changed, true);
    assert.equal(applied.result.dest, `${sb.p('into')}/`);
    assert.equal(readFileSync(sb.p('into', 'a'), 'utf8'), 'a\n');
    assert.equal(modeOf(sb.p('into', 'a')), '0600', "copymode: src's mode");
    assert.equal(readFileSync(sb.p('into', 'mine'), 'utf8'), 'kept\n');
    assert.equal(exists(sb.p('into', 'lnk')), false, "Ansible's local_follow is unset: the link is not copied");
    await converge(copy, { src: `${sb.p('src')}/`, dest: sb.p('into'), remote_src: true, local_follow: false }, sb);
    assert.deepEqual(readdirSync(sb.p('into')).sort(), ['a', 'lnk', 'mine', 'sub']);
  });

  it('itself to a new directory: dest/<name> made inside it, dest gets the mode', async () => {
    tree();
    const { applied } = await converge(
      copy,
      { src: sb.p('src'), dest: sb.p('new'), remote_src: true, mode: '0700' },
      sb,
    );
    assert.equal(applied.result.dest, sb.p('new'));
    assert.equal(modeOf(sb.p('new')), '0700');
    assert.equal(readFileSync(sb.p('new', 'src', 'a'), 'utf8'), 'a\n');
  });

  it('check mode writes nothing', async () => {
    tree();
    const before = snapshot(sb.dir);
    for (const dest of [sb.p('n1'), sb.p('src2/')]) {
      const plan = await planWith(copy, { src: sb.p('src'), dest, remote_src: true }, sandboxCtx(sb, { check: true }));
      assert.equal(plan.changed, true);
    }
    assert.deepEqual(snapshot(sb.dir), before);
  });
});

describe('copy: a local directory with local_follow: false', () => {
  const sb = sandboxPerTest();
  it('keeps its links as links, then is unchanged; followed by default', async () => {
    mkdirSync(sb.p('local', 'sub'), { recursive: true });
    writeFileSync(sb.p('local', 'a'), 'a\n');
    symlinkSync('a', sb.p('local', 'l'));
    symlinkSync('sub', sb.p('local', 'ls'));
    const { first, second } = await converge(
      copy,
      { src: `${sb.p('local')}/`, dest: sb.p('kept'), local_follow: false },
      sb,
    );
    assert.equal(first.changed, true);
    assert.equal(readlinkSync(sb.p('kept', 'l')), 'a');
    assert.equal(readlinkSync(sb.p('kept', 'ls')), 'sub');
    assert.equal(second.changed, false);
    await converge(copy, { src: `${sb.p('local')}/`, dest: sb.p('followed') }, sb);
    assert.equal(lstatSync(sb.p('followed', 'l')).isFile(), true);
    assert.equal(lstatSync(sb.p('followed', 'ls')).isDirectory(), true);
  });
});
