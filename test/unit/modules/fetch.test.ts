// fetch: argument rows, and a real fetch of a sandbox file to a local directory (the write is the plan's
// confirm step, run once applied; never in check mode).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fetch } from '../../../src/engine/modules/fetch.js';
import type { ConfirmContext, Module, Plan } from '../../../src/engine/modules/types.js';
import { argTable, planWith, sandboxCtx, sandboxPerTest } from './fake-host.js';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const confirm = async (plan: Plan) => (plan.confirm ? plan.confirm({} as ConfirmContext, []) : undefined);

describe('fetch', () => {
  const sb = sandboxPerTest();
  argTable(fetch as Module<never>, [
    [{ src: '/etc/hostname', dest: 'out/' }, true],
    [{ src: '/a', dest: '/b', flat: true, fail_on_missing: 'no', validate_checksum: false }, true],
    [{ src: '/a' }, false],
    [{ dest: '/b' }, false],
    [{ src: '/a', dest: '/b', mode: '0600' }, false],
  ]);
  const ctx = (check = false) => ({
    ...sandboxCtx(sb, { check, vars: { playbook_dir: sb.p('pb') } }),
    host: 'web1',
  });

  it('by host name under dest, written once applied; again: unchanged', async () => {
    writeFileSync(sb.p('remote.txt'), 'hello\n');
    const plan = await planWith(fetch, { src: sb.p('remote.txt'), dest: 'got' }, ctx());
    assert.equal(plan.changed, true);
    assert.deepEqual(plan.steps, [], 'the host changes nothing');
    const done = await confirm(plan);
    const dest = sb.p('pb', 'got', 'web1', sb.p('remote.txt'));
    assert.equal(readFileSync(dest, 'utf8'), 'hello\n');
    assert.deepEqual(done?.result, {
      md5sum: createHash('md5').update('hello\n').digest('hex'),
      dest,
      remote_md5sum: null,
      checksum: sha1('hello\n'),
      remote_checksum: sha1('hello\n'),
    });
    const again = await planWith(fetch, { src: sb.p('remote.txt'), dest: 'got' }, ctx());
    assert.equal(again.changed, false);
    assert.equal(again.confirm, undefined);
    assert.equal(again.result?.checksum, sha1('hello\n'));
  });

  it('flat: dest is the file, or a directory with a trailing slash; an existing directory without one fails', async () => {
    writeFileSync(sb.p('r.txt'), 'x');
    mkdirSync(sb.p('local'));
    await confirm(await planWith(fetch, { src: sb.p('r.txt'), dest: sb.p('local') + '/', flat: true }, ctx()));
    assert.equal(readFileSync(sb.p('local/r.txt'), 'utf8'), 'x');
    const bad = await planWith(fetch, { src: sb.p('r.txt'), dest: sb.p('local'), flat: true }, ctx());
    assert.match(String(bad.failed), /^dest is an existing directory/);
  });

  it('missing, a directory: failed, or with fail_on_missing: false a message; check mode is skipped', async () => {
    const missing = await planWith(fetch, { src: sb.p('nope'), dest: sb.p('l/') }, ctx());
    assert.equal(missing.failed, 'the remote file does not exist, not transferring, ignored');
    const ignored = await planWith(fetch, { src: sb.p('nope'), dest: sb.p('l/'), fail_on_missing: false }, ctx());
    assert.equal(ignored.failed, undefined);
    assert.deepEqual(ignored.result, { file: sb.p('nope') });
    const dir = await planWith(fetch, { src: sb.dir, dest: sb.p('l/'), fail_on_missing: false }, ctx());
    assert.equal(dir.msg, 'remote file is a directory, fetch cannot work on directories, not transferring, ignored');
    const check = await planWith(fetch, { src: sb.p('nope'), dest: sb.p('l/') }, ctx(true));
    assert.equal(check.skipped, true);
    assert.equal(check.msg, 'check mode not (yet) supported for this module');
  });
});
