// wait_for_connection: argument table, check mode, and its loop on a fake host: logins that fail, then one
// that answers; a host that never does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wait_for_connection } from '../../../src/engine/modules/wait_for_connection.js';
import type { ConfirmContext, Module } from '../../../src/engine/modules/types.js';
import { argTable, cannedCtx, planWith } from './fake-host.js';

const host = (failures: number): ConfirmContext & { tries: number } => {
  const h = {
    tries: 0,
    host: 'h1',
    via: 'direct',
    run: async () => ({ code: 0, stdout: 'pong\n', stderr: '' }),
    probe: () => Promise.reject(new Error('no route')),
    adopt: async () => undefined,
    reconnect: async () => {
      h.tries++;
      if (h.tries <= failures) throw new Error('connect ECONNREFUSED');
    },
  };
  return h;
};

describe('wait_for_connection', () => {
  argTable(wait_for_connection as Module<never>, [
    [{}, true],
    [{ delay: 1, sleep: 1, timeout: 60, connect_timeout: 5 }, true],
    [{ timeout: '30' }, true],
    [{ timeout: 'soon' }, false],
    [{ host: 'a' }, false],
  ]);
  it('is skipped in check mode, as Ansible (skipped, nothing else)', async () => {
    const p = await planWith(wait_for_connection, {}, cannedCtx([], { check: true }));
    assert.deepEqual([p.skipped, p.msg, p.confirm], [true, undefined, undefined]);
  });
  it('logs in again until the host answers; elapsed counts from before the delay', async () => {
    const p = await planWith(wait_for_connection, { sleep: 0, delay: 1 }, cannedCtx([]));
    const h = host(2);
    assert.deepEqual(await p.confirm!(h, []), { result: { elapsed: 1 } });
    assert.equal(h.tries, 3);
  });
  it("gives up after timeout with Ansible's words", async () => {
    const p = await planWith(wait_for_connection, { sleep: 1, timeout: 1 }, cannedCtx([]));
    const done = await p.confirm!(host(99), []);
    assert.equal(done.failed, 'timed out waiting for ping module test: connect ECONNREFUSED');
    assert.deepEqual(done.result, { elapsed: 1 });
  });
});
