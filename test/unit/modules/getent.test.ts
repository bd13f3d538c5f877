// getent: arguments as Ansible's module takes them, the command it reads with, and its facts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getent, getentTree } from '../../../src/engine/modules/getent.js';
import type { Module } from '../../../src/engine/modules/types.js';
import { argTable, cannedCtx, planWith } from './fake-host.js';

describe('getent', () => {
  argTable(getent as Module<never>, [
    [{ database: 'passwd', key: 'root' }, true],
    [{ database: 'services' }, true],
    [{ database: 'group', key: 'adm', service: 'files', split: ':', fail_key: 'no' }, true],
    [{ key: 'root' }, false],
    [{ database: 'passwd', keys: 'root' }, false],
  ]);

  it('splits on ":" for passwd-like databases, on whitespace otherwise; a repeated key is a list', () => {
    assert.deepEqual(getentTree('root:x:0:0:root:/root:/bin/bash\n', ':'), {
      root: ['x', '0', '0', 'root', '/root', '/bin/bash'],
    });
    assert.deepEqual(getentTree('ssh                   22/tcp\n', undefined), { ssh: ['22/tcp'] });
    assert.deepEqual(getentTree('::1  localhost\n::1  localhost ip6-localhost\n::1 x\n', undefined), {
      '::1': [['localhost'], ['localhost', 'ip6-localhost'], ['x']],
    });
  });

  it('reads with the key as one word and -s for a service; facts under getent_<database>', async () => {
    const ctx = cannedCtx({ code: 0, stdout: 'tcp 6 TCP\n', stderr: '' });
    const plan = await planWith(getent, { database: 'protocols', key: 'tcp x', service: 'files' }, ctx);
    assert.equal(ctx.reads[0], "getent protocols 'tcp x' -s files");
    assert.deepEqual(plan.result, { ansible_facts: { getent_protocols: { tcp: ['6', 'TCP'] } } });
    assert.deepEqual(plan.facts, { h1: { getent_protocols: { tcp: ['6', 'TCP'] } } });
  });

  it("a missing key: Ansible's messages; with fail_key: false, the key set to null", async () => {
    const missing = { code: 2, stdout: '', stderr: '' };
    const failed = await planWith(getent, { database: 'passwd', key: 'nobody' }, cannedCtx(missing));
    assert.equal(failed.failed, 'One or more supplied key could not be found in the database.');
    const kept = await planWith(getent, { database: 'passwd', key: 'nobody', fail_key: false }, cannedCtx(missing));
    assert.deepEqual(kept.result, {
      ansible_facts: { getent_passwd: { nobody: null } },
      msg: 'One or more supplied key could not be found in the database.',
    });
    const unknown = await planWith(getent, { database: 'x' }, cannedCtx({ code: 1, stdout: '', stderr: '' }));
    assert.equal(unknown.failed, 'Missing arguments, or database unknown.');
  });
});
