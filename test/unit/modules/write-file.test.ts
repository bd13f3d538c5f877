// The atomic write every module uses: attributes asked for are set, the others kept from the file it
// replaces (a new file: 0644, the writer's owner), the content exact — run as each host runs it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { writeFileStep } from '../../../src/engine/modules/lib/files.js';
import { runLocal, sandboxPerTest } from './fake-host.js';

const NOBODY = 65534; // nobody and nogroup on Debian
const root = userInfo().uid === 0;

describe('writeFileStep', () => {
  const sb = sandboxPerTest();

  const write = (path: string, content: string, attrs: Record<string, string> = {}) => {
    const step = writeFileStep(path, content, attrs);
    const r = runLocal(step.command, sb.dir, step.stdin);
    assert.equal(r.code, 0, r.stderr);
  };
  const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');

  it('a new file: the content, mode 0644 unless asked, no temp file left', () => {
    write(sb.p('new'), 'one\n');
    write(sb.p('new-0600'), "it's\n", { mode: '0600' });
    assert.equal(readFileSync(sb.p('new'), 'utf8'), 'one\n');
    assert.equal(mode(sb.p('new')), '0644');
    assert.equal(mode(sb.p('new-0600')), '0600');
    assert.deepEqual(readdirSync(sb.dir).sort(), ['new', 'new-0600']);
  });

  it('a relative path (no directory in it) is written where the command runs', () => {
    write('rel', 'x');
    assert.equal(readFileSync(sb.p('rel'), 'utf8'), 'x');
  });

  it('replacing a file keeps the attributes not asked for', { skip: !root && 'needs root (chown)' }, () => {
    writeFileSync(sb.p('f'), 'old', { mode: 0o600 });
    chownSync(sb.p('f'), NOBODY, NOBODY);
    write(sb.p('f'), 'new');
    assert.deepEqual([statSync(sb.p('f')).uid, statSync(sb.p('f')).gid, mode(sb.p('f'))], [NOBODY, NOBODY, '0600']);
    write(sb.p('f'), 'group only', { group: 'root' });
    assert.deepEqual([statSync(sb.p('f')).uid, statSync(sb.p('f')).gid, mode(sb.p('f'))], [NOBODY, 0, '0600']);
    write(sb.p('f'), 'owner only', { owner: 'root', mode: '0640' });
    assert.deepEqual([statSync(sb.p('f')).uid, statSync(sb.p('f')).gid, mode(sb.p('f'))], [0, 0, '0640']);
    write(sb.p('f'), 'all', { owner: 'nobody', group: 'nogroup', mode: '0604' });
    assert.deepEqual([statSync(sb.p('f')).uid, statSync(sb.p('f')).gid, mode(sb.p('f'))], [NOBODY, NOBODY, '0604']);
    assert.equal(readFileSync(sb.p('f'), 'utf8'), 'all');
  });
});
