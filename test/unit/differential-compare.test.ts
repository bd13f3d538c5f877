// The differential suite's judge (test/differential/compare.ts): what it reports, what it lets pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareRuns, differences, normalize, type RunJson } from '../differential/compare.js';

const run = (result: Record<string, unknown>, stats = { ok: 1, changed: 0 }): RunJson => ({
  plays: [{ play: { name: 'p' }, tasks: [{ task: { name: 't' }, hosts: { target: result } }] }],
  stats: { target: stats },
});

describe('differential compare', () => {
  it('the same result: no difference', () => {
    assert.deepEqual(compareRuns(run({ rc: 0, stdout: 'x' }), run({ rc: 0, stdout: 'x' })), []);
  });

  it('a field that differs, or is missing on one side, is reported with its path', () => {
    assert.deepEqual(compareRuns(run({ rc: 0, stdout: 'x' }), run({ rc: 1 })), [
      'play 0 task 0 (t) .target.rc: 0 vs 1',
      'play 0 task 0 (t) .target.stdout: "x" vs (absent)',
    ]);
    assert.deepEqual(differences({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }, 4] }), [
      '.a[1].b: 2 vs 3',
      '.a[2]: (absent) vs 4',
    ]);
  });

  it("allowed fields (with their reasons) and the tools' own _ansible fields are not compared, at any depth", () => {
    const a = run({
      rc: 0,
      start: '2026-01-01',
      invocation: { module_args: {} },
      _ansible_no_log: false,
      results: [{ delta: '0:00:01', x: 1 }],
    });
    const b = run({ rc: 0, start: '2027-01-01', results: [{ delta: '0:00:02', x: 1 }] });
    assert.deepEqual(compareRuns(a, b), []);
    assert.deepEqual(normalize({ mtime: 1, y: { mtime: 2, z: 3 } }), { y: { z: 3 } });
  });

  it("a temporary name's random part is masked, nothing else of the value", () => {
    assert.deepEqual(normalize({ path: '/tmp/ansible.ab_3x9qz.txt', l: ['/var/tmp/tmp-0123abcd'] }), {
      path: '/tmp/ansible.XXXXXXXX.txt',
      l: ['/var/tmp/tmp-XXXXXXXX'],
    });
    assert.deepEqual(compareRuns(run({ path: '/tmp/ansible.aaaaaaaa' }), run({ path: '/tmp/ansible.bbbbbbbb' })), []);
    assert.equal(compareRuns(run({ path: '/tmp/ansible.aaaaaaaa' }), run({ path: '/tmp/other.bbbbbbbb' })).length, 1);
    const ssh = 'Shared connection to 198.18.0.10 closed.';
    assert.deepEqual(normalize({ stderr: `${ssh}\r\n`, stderr_lines: [ssh], l: ['', 'x'] }), {
      stderr: '',
      stderr_lines: [],
      l: ['', 'x'],
    });
    assert.deepEqual(normalize({ stderr: `oops\n${ssh}\r\n` }), { stderr: 'oops\n' });
  });

  it("a field allowed by its value: only when ansible-playbook's value is of that kind", () => {
    const tmp = '/home/admin/.ansible/tmp/ansible-tmp-1-2-3/source';
    assert.deepEqual(compareRuns(run({ src: tmp, dest: '/x' }), run({ dest: '/x' })), []);
    assert.deepEqual(compareRuns(run({ src: '/etc/a' }), run({})), [
      'play 0 task 0 (t) .target.src: "/etc/a" vs (absent)',
    ]);
  });

  it('tasks are matched by order and name; stats are compared', () => {
    const a = run({ rc: 0 });
    const b = run({ rc: 0 }, { ok: 1, changed: 1 });
    b.plays[0].tasks[0].task.name = 'other';
    assert.deepEqual(compareRuns(a, b), ['play 0 task 0 (t): named "t" vs "other"', 'stats.target.changed: 0 vs 1']);
    b.plays[0].tasks.push({ task: { name: 'extra' }, hosts: {} });
    assert.match(compareRuns(a, b).join('\n'), /task 1 \(extra\): only relay-play ran it/);
  });
});
