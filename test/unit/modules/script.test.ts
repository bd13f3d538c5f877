// script: argument table, creates/removes, chdir, check mode, and the script run for real here: sent on
// standard input, its arguments read by a shell, every occurrence of its name its path.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { script } from '../../../src/engine/modules/script.js';
import type { Module } from '../../../src/engine/modules/types.js';
import { applyPlan, argTable, planWith, sandboxCtx, sandboxPerTest } from './fake-host.js';

describe('script', () => {
  argTable(script as Module<never>, [
    [{ _raw: 'run.sh a b' }, true],
    [{ cmd: 'run.sh', chdir: '/tmp', creates: '/x', removes: '/y', executable: '/bin/bash', decrypt: true }, true],
    [{ _raw: 'run.sh', cmd: 'run.sh' }, false],
    [{}, false],
    [{ cmd: '' }, false],
    [{ cmd: 'run.sh', args: 'x' }, false],
  ]);
  const sb = sandboxPerTest();
  const body = '#!/bin/sh\necho "1=$1 2=$2 in $(pwd)"; echo err >&2; exit "${3:-0}"\n';
  const plan = async (args: Record<string, unknown>, check = false) => {
    writeFileSync(sb.p('run.sh'), body);
    return planWith(script, args as never, sandboxCtx(sb, { check }));
  };
  it('sends the script on stdin, never its text on the command line; the shell reads the arguments', async () => {
    const p = await plan({ _raw: `${sb.p('run.sh')} "two words" $((1 + 1))`, chdir: '/' });
    assert.equal(p.steps[0].stdin, body);
    assert.ok(!p.steps[0].command.includes('echo'));
    const { result } = applyPlan(p, sb);
    assert.equal(result.rc, 0);
    assert.equal(result.changed, true);
    assert.deepEqual(result.stdout_lines, ['1=two words 2=2 in /', 'err']);
  });
  it('a non-zero exit fails as Ansible: non-zero return code', async () => {
    const { result } = applyPlan(await plan({ cmd: `${sb.p('run.sh')} a b 3`, executable: 'sh' }), sb);
    assert.deepEqual([result.rc, result.failed, result.msg], [3, true, 'non-zero return code']);
  });
  it('creates and removes skip it, with inline options too; chdir must be absolute', async () => {
    const c = await plan({ _raw: `${sb.p('run.sh')} creates=${sb.p('run.sh')}` });
    assert.deepEqual([c.skipped, c.msg], [true, `${sb.p('run.sh')} exists, matching creates option`]);
    const r = await plan({ cmd: sb.p('run.sh'), removes: sb.p('none') });
    assert.deepEqual([r.skipped, r.msg], [true, `${sb.p('none')} does not exist, matching removes option`]);
    const d = await plan({ cmd: sb.p('run.sh'), chdir: 'tmp' });
    assert.equal(d.failed, 'chdir tmp must be an absolute path for a Unix-aware remote node');
  });
  it('check mode: skipped, or changed when creates/removes let it run', async () => {
    const s = await plan({ cmd: sb.p('run.sh') }, true);
    assert.deepEqual([s.skipped, s.msg], [true, 'Check mode is not supported for this task.']);
    const c = await plan({ cmd: sb.p('run.sh'), creates: sb.p('none') }, true);
    assert.deepEqual([c.changed, c.steps, c.skipped], [true, [], undefined]);
  });
});
