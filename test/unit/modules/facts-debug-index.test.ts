import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { set_fact } from '../../../src/engine/modules/set_fact.js';
import { debug } from '../../../src/engine/modules/debug.js';
import { builtinModules } from '../../../src/engine/modules/index.js';

const modules = Object.fromEntries(builtinModules.names().map((n) => [n, builtinModules.get(n)!]));
import { cannedCtx, planWith, sandbox, sandboxCtx, schemaOk } from './fake-host.js';

describe('set_fact', () => {
  it('facts for this host, no change, no step, no read', async () => {
    const ctx = cannedCtx([], { host: 'dev1' });
    const plan = await planWith(set_fact, { relay_port: 22221, peers: ['a', 'b'], cacheable: true }, ctx);
    assert.deepEqual(plan.facts, { dev1: { relay_port: 22221, peers: ['a', 'b'] } });
    assert.equal(plan.changed, false);
    assert.deepEqual(plan.steps, []);
    assert.equal(ctx.reads.length, 0);
  });
  it('free-form k=v', async () => {
    const plan = await planWith(set_fact, { _raw: 'a=1 b="two words"' }, cannedCtx([]));
    assert.deepEqual(plan.facts, { h1: { a: '1', b: 'two words' } });
  });
  it('names must be variable names', () => {
    assert.ok(schemaOk(set_fact, { ok_name: 1 }));
    assert.ok(!schemaOk(set_fact, { 'bad-name': 1 }));
    assert.ok(!schemaOk(set_fact, {}));
  });
});

describe('debug', () => {
  it('msg', async () => {
    const plan = await planWith(debug, { msg: 'hello' }, cannedCtx([]));
    assert.deepEqual(plan, { changed: false, steps: [], result: { msg: 'hello' } });
  });
  it('var: rendered through the task variables, under its own name only (no msg), as Ansible', async () => {
    const sb = sandbox();
    try {
      const ctx = sandboxCtx(sb, { vars: { port: 22221, peer: { name: 'dev1' } } });
      assert.deepEqual((await planWith(debug, { var: 'port' }, ctx)).result, { port: 22221 });
      assert.deepEqual((await planWith(debug, { var: 'peer' }, ctx)).result, {
        peer: { name: 'dev1' },
      });
      assert.deepEqual((await planWith(debug, { var: 'nope' }, ctx)).result, {
        nope: 'VARIABLE IS NOT DEFINED!',
      });
      assert.deepEqual((await planWith(debug, { _raw: 'var=peer.name' }, ctx)).result, {
        'peer.name': 'dev1',
      });
    } finally {
      sb.cleanup();
    }
  });
  it('var is an expression; msg and var exclude each other', async () => {
    const sb = sandbox();
    try {
      const ctx = sandboxCtx(sb, { vars: { port: 22221 } });
      assert.deepEqual((await planWith(debug, { var: 'port + 1' }, ctx)).result, { 'port + 1': 22222 });
    } finally {
      sb.cleanup();
    }
    assert.ok(!schemaOk(debug, { msg: 'a', var: 'b' }));
  });
});

describe('module index', () => {
  const names = [
    'copy',
    'template',
    'command',
    'shell',
    'file',
    'lineinfile',
    'blockinfile',
    'user',
    'authorized_key',
    'systemd',
    'stat',
    'slurp',
    'openssh_keypair',
    'set_fact',
    'debug',
  ];
  it('every module, with its FQCN alias', () => {
    for (const n of names) {
      assert.ok(modules[n], n);
      const fqcn =
        n === 'authorized_key'
          ? 'ansible.posix.authorized_key'
          : n === 'openssh_keypair'
            ? 'community.crypto.openssh_keypair'
            : `ansible.builtin.${n}`;
      assert.equal(modules[fqcn], modules[n], fqcn);
    }
  });
  it('every FQCN strips (as the loader does) to a known module', () => {
    for (const k of Object.keys(modules))
      assert.ok(modules[k.replace(/^(ansible\.builtin|ansible\.posix|community\.crypto)\./, '')], k);
  });
  it('every schema compiles and rejects unknown keys (except set_fact)', () => {
    for (const n of names) {
      if (n === 'set_fact') continue;
      assert.equal(schemaOk(modules[n], { surely_unknown_key: 1 }), false, n);
    }
  });
});
