import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { attributesOf, mimeOf, stat } from '../../../src/engine/modules/stat.js';
import { slurp } from '../../../src/engine/modules/slurp.js';
import { planWith, sandbox, sandboxCtx, schemaOk, type Sandbox } from './fake-host.js';

describe('stat / slurp', () => {
  let sb: Sandbox;
  const content = 'hello\nworld\n';
  before(() => {
    sb = sandbox();
    writeFileSync(sb.p('f'), content, { mode: 0o640 });
    mkdirSync(sb.p('d'));
    symlinkSync('f', sb.p('l'));
  });
  after(() => sb.cleanup());

  it('stat of a file, with sha1, in one read; never a change', async () => {
    const ctx = sandboxCtx(sb);
    const plan = await planWith(stat, { path: sb.p('f') }, ctx);
    assert.equal(ctx.reads.length, 1);
    assert.equal(plan.changed, false);
    assert.deepEqual(plan.steps, []);
    const s = plan.result?.stat as Record<string, unknown>;
    assert.deepEqual(
      {
        exists: s.exists,
        isdir: s.isdir,
        isreg: s.isreg,
        islnk: s.islnk,
        mode: s.mode,
        pw_name: s.pw_name,
        gr_name: s.gr_name,
        size: s.size,
        checksum: s.checksum,
      },
      {
        exists: true,
        isdir: false,
        isreg: true,
        islnk: false,
        mode: '0640',
        pw_name: 'root',
        gr_name: 'root',
        size: content.length,
        checksum: createHash('sha1').update(content).digest('hex'),
      },
    );
  });

  it("Ansible's other fields: permission bits, access, times, inode, link source; follow; another algorithm", async () => {
    const s = (await planWith(stat, { path: sb.p('f') }, sandboxCtx(sb))).result?.stat as Record<string, unknown>;
    assert.deepEqual(
      {
        rusr: s.rusr,
        wusr: s.wusr,
        xusr: s.xusr,
        rgrp: s.rgrp,
        wgrp: s.wgrp,
        roth: s.roth,
        isuid: s.isuid,
        readable: s.readable,
        writeable: s.writeable,
        executable: s.executable,
        nlink: s.nlink,
      },
      {
        rusr: true,
        wusr: true,
        xusr: false,
        rgrp: true,
        wgrp: false,
        roth: false,
        isuid: false,
        readable: true,
        writeable: true,
        executable: false,
        nlink: 1,
      },
    );
    for (const k of ['inode', 'dev', 'atime', 'mtime', 'ctime', 'uid', 'gid']) assert.equal(typeof s[k], 'number', k);
    const l = (await planWith(stat, { path: sb.p('l') }, sandboxCtx(sb))).result?.stat as Record<string, unknown>;
    assert.equal(l.lnk_source, sb.p('f'));
    const followed = (
      await planWith(stat, { path: sb.p('l'), follow: true, checksum_algorithm: 'sha256' }, sandboxCtx(sb))
    ).result?.stat as Record<string, unknown>;
    assert.equal(followed.islnk, false);
    assert.equal(followed.checksum, createHash('sha256').update(content).digest('hex'));
  });

  it('get_checksum: false; directories and symlinks', async () => {
    const noSum = (await planWith(stat, { path: sb.p('f'), get_checksum: false }, sandboxCtx(sb))).result
      ?.stat as Record<string, unknown>;
    assert.equal(noSum.checksum, undefined);
    const d = (await planWith(stat, { path: sb.p('d') }, sandboxCtx(sb))).result?.stat as Record<string, unknown>;
    assert.equal(d.isdir, true);
    assert.equal(d.checksum, undefined);
    const l = (await planWith(stat, { path: sb.p('l') }, sandboxCtx(sb))).result?.stat as Record<string, unknown>;
    assert.equal(l.islnk, true);
    assert.equal(l.lnk_target, 'f');
  });

  it("file's and lsattr's answers read as Ansible reads them; their defaults when there is none", () => {
    assert.deepEqual(mimeOf('/etc/x: text/plain; charset=us-ascii\n'), { mimetype: 'text/plain', charset: 'us-ascii' });
    assert.deepEqual(mimeOf('/a:b:    inode/directory; charset=binary'), {
      mimetype: 'inode/directory',
      charset: 'binary',
    });
    assert.deepEqual(mimeOf('/x: odd'), { mimetype: 'unknown', charset: 'unknown' });
    assert.deepEqual(mimeOf('/x: a/b; nocharset'), { mimetype: 'a/b', charset: 'unknown' });
    assert.deepEqual(mimeOf(undefined), { mimetype: 'unknown', charset: 'unknown' });
    assert.deepEqual(attributesOf('12          ----i---------e------- /x\n'), {
      version: '12',
      attr_flags: 'ie',
      attributes: ['immutable', 'extents'],
    });
    assert.deepEqual(attributesOf(undefined), { version: null, attributes: [], attr_flags: '' });
  });

  it('blocks, block_size, device_type; aliases of path, checksum and get_mime', async () => {
    const s = (
      await planWith(
        stat,
        { dest: sb.p('f'), checksum: 'md5', mime: false, attr: false, get_md5: true },
        sandboxCtx(sb),
      )
    ).result?.stat as Record<string, unknown>;
    assert.equal(s.checksum, s.md5);
    assert.equal(typeof s.blocks, 'number');
    assert.equal(typeof s.block_size, 'number');
    assert.equal(s.device_type, 0);
    assert.equal(s.mimetype, undefined);
    const dev = (await planWith(stat, { path: '/dev/null' }, sandboxCtx(sb))).result?.stat as Record<string, unknown>;
    assert.equal(dev.device_type, 259);
  });

  it('stat of a missing path', async () => {
    const plan = await planWith(stat, { path: sb.p('nope') }, sandboxCtx(sb));
    assert.deepEqual(plan.result, { stat: { exists: false } });
    assert.equal(plan.failed, undefined);
  });

  it('slurp: base64 content', async () => {
    const ctx = sandboxCtx(sb);
    const plan = await planWith(slurp, { src: sb.p('f') }, ctx);
    assert.equal(ctx.reads.length, 1);
    assert.deepEqual(plan, {
      changed: false,
      steps: [],
      result: { content: Buffer.from(content).toString('base64'), encoding: 'base64', source: sb.p('f') },
    });
    const alias = await planWith(slurp, { path: sb.p('f') }, sandboxCtx(sb));
    assert.equal(alias.result?.content, plan.result?.content);
  });

  it('slurp: an empty file, a missing file, a directory', async () => {
    writeFileSync(sb.p('empty'), '');
    assert.equal((await planWith(slurp, { src: sb.p('empty') }, sandboxCtx(sb))).result?.content, '');
    assert.equal(
      (await planWith(slurp, { src: sb.p('nope') }, sandboxCtx(sb))).failed,
      `file not found: ${sb.p('nope')}`,
    );
    assert.match(String((await planWith(slurp, { src: sb.p('d') }, sandboxCtx(sb))).failed), /is a directory/);
  });

  it('schemas', () => {
    assert.ok(schemaOk(stat, { path: '/x', get_checksum: false }));
    assert.ok(schemaOk(stat, { path: '/x', checksum_algorithm: 'sha256', follow: true }));
    assert.ok(!schemaOk(stat, { path: '/x', checksum_algorithm: 'crc32' }));
    assert.ok(schemaOk(slurp, { src: '/x' }));
    assert.ok(!schemaOk(slurp, { src: '/x', path: '/y' }));
    assert.ok(!schemaOk(slurp, {}));
  });
});
