import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { copy } from '../../../src/engine/modules/copy.js';
import { wantedMode } from '../../../src/engine/modules/lib/managed-file.js';
import { converge, modeOf, planWith, sandboxCtx, sandboxPerTest } from './fake-host.js';

describe('copy: modes as Ansible takes and shows them', () => {
  const sb = sandboxPerTest();

  it('a symbolic mode is worked out from the file, a new one from 0666 less the umask', () => {
    assert.equal(wantedMode('u=rw,g=r,o=r', undefined, 0o022), '0644');
    assert.equal(wantedMode('u+x', '0644', 0o022), '0744');
    assert.equal(wantedMode('=r', undefined, 0o027), '0440');
    assert.equal(wantedMode('g+rX', '0700', 0o022), '0750');
    assert.equal(wantedMode('01777', '0755', 0o022), '1777');
    assert.equal(wantedMode(undefined, '0644', 0o022), undefined);
    assert.throws(() => wantedMode('u=rwz', '0644', 0o022), /bad symbolic permission/);
  });

  it('copy with a symbolic mode: written, then unchanged; the mode shown "0%03o"', async () => {
    const dest = sb.p('f');
    const { first, applied, second } = await converge(copy, { content: 'x\n', dest, mode: 'u=rw,g=r,o=' }, sb);
    assert.equal(first.changed, true);
    assert.equal(modeOf(dest), '0640');
    assert.equal(applied.result.mode, '0640');
    assert.equal(second.changed, false);
    const sticky = await converge(copy, { content: 'x\n', dest, mode: '01640' }, sb);
    assert.equal(sticky.applied.result.mode, '01640');
  });

  it("a mode neither octal nor symbolic: Ansible's failure, with the file's facts", async () => {
    const dest = sb.p('f');
    writeFileSync(dest, 'a\n', { mode: 0o644 });
    const p = await planWith(copy, { content: 'a\n', dest, mode: 'u+q' }, sandboxCtx(sb));
    assert.equal(p.failed, 'mode must be in octal or symbolic form');
    assert.equal(p.steps.length, 0);
    assert.deepEqual(
      { ...p.result, uid: 0, gid: 0, owner: '', group: '' },
      {
        changed: false,
        failed: true,
        msg: 'mode must be in octal or symbolic form',
        details: 'bad symbolic permission for mode: u+q',
        path: dest,
        checksum: '3f786850e387550fdab836ed7e6dc881de23001b',
        size: 2,
        state: 'file',
        diff: [],
        mode: '0644',
        uid: 0,
        gid: 0,
        owner: '',
        group: '',
      },
    );
    // Other content is written first (with no mode of its own), then fails the same way.
    const w = await planWith(copy, { content: 'b\n', dest, mode: 'bogus' }, sandboxCtx(sb));
    assert.equal(w.changed, false);
    assert.equal(w.steps.length, 1);
    assert.equal(w.finish!([{ code: 0, stdout: '', stderr: '' }]).failed, true);
  });

  it('check mode: a content change says only changed; an unchanged one, the file as it is', async () => {
    const dest = sb.p('f');
    writeFileSync(dest, 'x\n', { mode: 0o644 });
    const changed = await planWith(copy, { content: 'y\n', dest, mode: 'u+x' }, sandboxCtx(sb, { check: true }));
    assert.deepEqual([changed.changed, changed.result], [true, { diff: [] }]);
    const same = await planWith(copy, { content: 'x\n', dest, mode: 'u+x' }, sandboxCtx(sb, { check: true }));
    assert.equal(same.changed, true);
    assert.equal(same.result!.mode, '0644');
    assert.deepEqual(same.result!.diff, { before: { path: dest, mode: '0644' }, after: { path: dest, mode: '0744' } });
  });
});
