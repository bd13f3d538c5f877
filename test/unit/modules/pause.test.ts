// pause: argument table, the duration Ansible would wait, the refusal to wait for input, a real short pause.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pause, pauseSeconds, pyRound2 } from '../../../src/engine/modules/pause.js';
import type { Module } from '../../../src/engine/modules/types.js';
import { argTable, cannedCtx, planWith } from './fake-host.js';

describe('pause', () => {
  argTable(pause as Module<never>, [
    [{ seconds: 1 }, true],
    [{ seconds: '2' }, true],
    [{ minutes: 1, prompt: 'Wait', echo: 'no' }, true],
    [{ prompt: 'Go on?' }, true],
    [{}, true],
    [{ seconds: 1, minutes: 1 }, false],
    [{ seconds: 'soon' }, false],
    [{ echo: 'maybe', seconds: 1 }, false],
    [{ seconds: 1, timeout: 2 }, false],
  ]);
  it("waits Ansible's whole seconds: int() of the argument, at least one", () => {
    assert.equal(pauseSeconds({ seconds: 2.7 }), 2);
    assert.equal(pauseSeconds({ seconds: 0 }), 1);
    assert.equal(pauseSeconds({ minutes: 0.5 }), 1);
    assert.equal(pauseSeconds({ minutes: 2 }), 120);
    assert.equal(pauseSeconds({ prompt: 'x' }), undefined);
  });
  it("prints a duration as Python's repr of round(x, 2)", () => {
    assert.equal(pyRound2(1.0004), '1.0');
    assert.equal(pyRound2(1.0061), '1.01');
    assert.equal(pyRound2(0.0168), '0.02');
  });
  it('refuses to wait for input, saying why', async () => {
    const plan = await planWith(pause, { prompt: 'Go on?' }, cannedCtx([]));
    assert.match(String(plan.failed), /never stops a run to ask: give seconds or minutes/);
    assert.match(String(plan.failed), /Go on\?/);
  });
  it("pauses, and returns Ansible's fields", async () => {
    const t0 = Date.now();
    const plan = await planWith(pause, { seconds: 0.2, echo: false }, cannedCtx([]));
    assert.ok(Date.now() - t0 >= 1000);
    const r = plan.result as Record<string, unknown>;
    assert.equal(plan.changed, false);
    assert.deepEqual(Object.keys(r).sort(), ['delta', 'echo', 'rc', 'start', 'stderr', 'stdout', 'stop', 'user_input']);
    assert.equal(r.delta, 1);
    assert.equal(r.echo, false);
    assert.equal(r.user_input, '');
    assert.match(String(r.stdout), /^Paused for 1\.\d+ seconds$/);
    assert.match(String(r.start), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
  });
});
