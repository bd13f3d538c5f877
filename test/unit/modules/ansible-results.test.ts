// Results and arguments as Ansible's documentation gives them: copy/template (checksum SHA-1, size,
// mode, backup_file, binary content, force), lineinfile's backup, and apt's plans from canned reads.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { apt } from '../../../src/engine/modules/apt.js';
import { copy } from '../../../src/engine/modules/copy.js';
import { lineinfile } from '../../../src/engine/modules/lineinfile.js';
import { applyPlan, cannedCtx, converge, planWith, sandbox, sandboxCtx, schemaOk, type Sandbox } from './fake-host.js';

const sha1 = (d: string | Buffer) => createHash('sha1').update(d).digest('hex');

describe('copy: Ansible fields, backup, bytes, force', () => {
  let sb: Sandbox;
  before(() => (sb = sandbox()));
  after(() => sb.cleanup());

  it('returns dest, checksum (SHA-1 of the new content), size, state, mode', async () => {
    const { first, applied, second } = await converge(copy, { content: 'hello\n', dest: sb.p('a'), mode: '0640' }, sb);
    assert.equal(first.changed, true);
    assert.deepEqual(
      {
        dest: applied.result.dest,
        checksum: applied.result.checksum,
        size: applied.result.size,
        state: applied.result.state,
        mode: applied.result.mode,
      },
      { dest: sb.p('a'), checksum: sha1('hello\n'), size: 6, state: 'file', mode: '0640' },
    );
    assert.equal(second.changed, false);
    assert.equal(second.result?.checksum, sha1('hello\n'), 'the same checksum when nothing changes');
  });

  it('backup: keeps the old file as DEST.PID.DATE~ and returns its path; none when unchanged', async () => {
    writeFileSync(sb.p('b'), 'old\n');
    const plan = await planWith(copy, { content: 'new\n', dest: sb.p('b'), backup: true }, sandboxCtx(sb));
    const { result } = applyPlan(plan, sb);
    const backup = String(result.backup_file);
    assert.match(backup, new RegExp(`^${sb.p('b')}\\.\\d+\\.\\d{4}-\\d\\d-\\d\\d@\\d\\d:\\d\\d:\\d\\d~$`));
    assert.equal(readFileSync(backup, 'utf8'), 'old\n');
    assert.equal(readFileSync(sb.p('b'), 'utf8'), 'new\n');
    const again = applyPlan(
      await planWith(copy, { content: 'new\n', dest: sb.p('b'), backup: true }, sandboxCtx(sb)),
      sb,
    );
    assert.equal(again.result.backup_file, undefined);
  });

  it('bytes that are not text (a .deb, an image) arrive byte for byte and converge', async () => {
    const bytes = Buffer.from([0, 255, 254, 10, 0xc3, 0x28, 1, 2, 3]);
    writeFileSync(sb.p('src.bin'), bytes);
    const { applied, second } = await converge(copy, { src: sb.p('src.bin'), dest: sb.p('dst.bin') }, sb);
    assert.ok(readFileSync(sb.p('dst.bin')).equals(bytes));
    assert.equal(applied.result.checksum, sha1(bytes));
    assert.equal(second.changed, false);
  });

  it('force: false leaves an existing file alone', async () => {
    writeFileSync(sb.p('keep'), 'mine\n');
    const plan = await planWith(copy, { content: 'theirs\n', dest: sb.p('keep'), force: false }, sandboxCtx(sb));
    assert.equal(plan.changed, false);
  });
});

describe('lineinfile: backup', () => {
  let sb: Sandbox;
  before(() => (sb = sandbox()));
  after(() => sb.cleanup());

  it('returns the backup under "backup" (as Ansible\'s lineinfile), with msg "line added"', async () => {
    writeFileSync(sb.p('conf'), 'a=1\n');
    const plan = await planWith(lineinfile, { path: sb.p('conf'), line: 'b=2', backup: true }, sandboxCtx(sb));
    assert.equal(plan.msg, 'line added');
    const { result } = applyPlan(plan, sb);
    assert.equal(readFileSync(String(result.backup), 'utf8'), 'a=1\n');
    assert.equal(readdirSync(sb.dir).filter((f) => f.startsWith('conf.')).length, 1);
  });
});

describe('apt (canned reads)', () => {
  const read = (lines: string[]) => cannedCtx(['cache 1000 1100', ...lines, ''].join('\n'));

  it('present: installs what is missing, one apt-get for all; diff lists versions', async () => {
    const plan = await planWith(apt, { name: ['curl', 'jq'] }, read(['pkg|curl|ii |7.88.1|', 'pkg|jq|un ||1.6-2.1']));
    assert.equal(plan.changed, true);
    assert.deepEqual(
      plan.steps.map((s) => s.describe),
      ['apt-get install jq'],
    );
    assert.match(plan.steps[0].command, /^env DEBIAN_FRONTEND=noninteractive .*apt-get install -y -q .* -- jq$/);
    assert.equal(plan.diff?.[0].after, 'jq: 1.6-2.1\n');
  });

  it('present with everything installed: no step, no change (one read)', async () => {
    const ctx = read(['pkg|curl|ii |7.88.1|']);
    const plan = await planWith(apt, { name: 'curl', state: 'present' }, ctx);
    assert.deepEqual([plan.changed, plan.steps.length, ctx.reads.length], [false, 0, 1]);
  });

  it('latest upgrades to the candidate; absent removes (purge); unknown packages fail', async () => {
    const latest = await planWith(apt, { name: 'curl', state: 'latest' }, read(['pkg|curl|ii |7.88.1|7.88.2']));
    assert.deepEqual(
      latest.steps.map((s) => s.describe),
      ['apt-get install curl'],
    );
    const absent = await planWith(apt, { name: 'curl', state: 'absent', purge: true }, read(['pkg|curl|ii |7.88.1|']));
    assert.match(absent.steps[0].command, / apt-get purge -y /);
    const gone = await planWith(apt, { name: 'nope' }, read(['pkg|nope|||']));
    assert.equal(gone.failed, "No package matching 'nope' is available");
  });

  it('deb: installs the file unless that version is installed', async () => {
    const fresh = await planWith(apt, { deb: '/tmp/t.deb' }, read(['deb|tool|1.0||']));
    assert.deepEqual(
      fresh.steps.map((s) => s.describe),
      ['apt-get install /tmp/t.deb'],
    );
    const same = await planWith(apt, { deb: '/tmp/t.deb' }, read(['deb|tool|1.0|ii |1.0']));
    assert.equal(same.changed, false);
    assert.match(String((await planWith(apt, { deb: 'relative.deb' }, read([]))).failed), /absolute path/);
    assert.match(String((await planWith(apt, { deb: '/tmp/x.deb' }, read(['deb-missing']))).failed), /not found/);
  });

  it('update_cache: only when older than cache_valid_time; schema', async () => {
    const fresh = await planWith(apt, { update_cache: true, cache_valid_time: 3600 }, read([]));
    assert.deepEqual(fresh.steps, []);
    const stale = await planWith(apt, { update_cache: true, cache_valid_time: 10 }, read([]));
    assert.deepEqual(
      stale.steps.map((s) => s.describe),
      ['apt-get update'],
    );
    assert.ok(!schemaOk(apt, { name: 'a', pkg: 'b' }));
    assert.ok(!schemaOk(apt, { name: 'a', state: 'installed-ish' }));
    // apt 2.14 refuses the old installed/removed.
    assert.ok(!schemaOk(apt, { name: 'a', state: 'installed' }));
  });
});
