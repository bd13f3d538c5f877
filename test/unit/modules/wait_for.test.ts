// wait_for: argument table, Ansible's validation messages, /proc/net/tcp addresses, and its loop run for
// real here (sh, bash, grep -P): a file that appears, a regex's groups, timeouts, a listening port, drained.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { parseAhosts, procHex, wait_for } from '../../../src/engine/modules/wait_for.js';
import type { Module } from '../../../src/engine/modules/types.js';
import { applyPlan, argTable, cannedCtx, planWith, sandboxCtx, sandboxPerTest } from './fake-host.js';

describe('wait_for', () => {
  argTable(wait_for as Module<never>, [
    [{ port: 22 }, true],
    [{ host: 'a', port: '22', state: 'stopped', timeout: 3, delay: 1, sleep: 1, connect_timeout: 1 }, true],
    [{ path: '/tmp/x', search_regex: 'a(b)', msg: 'no' }, true],
    [{ port: 22, state: 'drained', exclude_hosts: ['10.0.0.1'], active_connection_states: 'ESTABLISHED' }, true],
    [{ timeout: 1 }, true],
    [{}, true],
    [{ port: 'ssh' }, false],
    [{ port: 22, state: 'up' }, false],
    [{ path: '' }, false],
    [{ timeout: 1.5 }, false],
    [{ port: 22, banner: 'x' }, false],
  ]);
  const failed = async (args: Record<string, unknown>) =>
    (await planWith(wait_for, args as never, cannedCtx([]))).failed;
  it("refuses what Ansible's module refuses, in its words", async () => {
    assert.equal(await failed({ port: 1, path: '/a' }), 'port and path parameter can not both be passed to wait_for');
    assert.equal(
      await failed({ path: '/a', state: 'stopped' }),
      'state=stopped should only be used for checking a port in the wait_for module',
    );
    assert.equal(
      await failed({ path: '/a', state: 'drained' }),
      'state=drained should only be used for checking a port in the wait_for module',
    );
    assert.equal(await failed({ port: 1, exclude_hosts: 'a' }), 'exclude_hosts should only be with state=drained');
    assert.equal(
      await failed({ port: 1, active_connection_states: ['CLOSED'] }),
      'unknown active_connection_state (CLOSED) defined',
    );
    assert.match(String(await failed({ path: '/a', search_regex: '(' })), /^Invalid regular expression: /);
  });
  it('is skipped in check mode, as Ansible skips it', async () => {
    const plan = await planWith(wait_for, { port: 22 }, cannedCtx([], { check: true }));
    assert.equal(plan.skipped, true);
    assert.equal(plan.msg, 'remote module (wait_for) does not support check mode');
  });
  it('writes addresses as /proc/net/tcp does (little-endian words)', () => {
    assert.deepEqual(procHex('127.0.0.1'), ['4:0100007F', '6:0000000000000000FFFF00000100007F']);
    assert.deepEqual(procHex('0.0.0.0'), ['4:00000000', '6:0000000000000000FFFF000000000000']);
    assert.deepEqual(procHex('::1'), ['6:00000000000000000000000001000000']);
    assert.deepEqual(procHex('fe80::1:2'), ['6:000080FE000000000000000002000100']);
    const got = parseAhosts('=a\n127.0.0.1 STREAM a\n127.0.0.1 DGRAM\n::1 RAW\n=b\n!\n');
    assert.deepEqual(got.get('a'), ['127.0.0.1', '::1']);
    assert.equal(got.get('b'), undefined);
  });

  const sb = sandboxPerTest();
  const run = async (args: Record<string, unknown>, setup = '') => {
    const plan = await planWith(wait_for, args as never, sandboxCtx(sb));
    plan.steps[0].command = `${setup}${plan.steps[0].command}`;
    return applyPlan(plan, sb).result;
  };
  it('waits for a file that appears, and returns what Ansible returns', async () => {
    const r = await run({ path: sb.p('f'), timeout: 5 }, `(sleep 1; : > ${sb.p('f')}) & `);
    assert.deepEqual(r, {
      changed: false,
      state: 'file',
      port: null,
      search_regex: null,
      match_groups: [],
      match_groupdict: {},
      path: sb.p('f'),
      elapsed: 1,
      // Ansible's add_path_info
      uid: r.uid,
      gid: r.gid,
      owner: r.owner,
      group: r.group,
      mode: '0644',
      size: 0,
    });
    assert.equal(r.state, 'file');
  });
  it("a regex in the file: its groups, Python's", async () => {
    const r = await run(
      { path: sb.p('log'), search_regex: '^ready (?P<port>\\d+) (x)?$', timeout: 5 },
      `printf 'a\\nready 80\\nb\\n' > ${sb.p('log')}; (sleep 1; printf 'ready 8080 \\n' >> ${sb.p('log')}) & `,
    );
    assert.equal(r.failed, undefined);
    assert.deepEqual(r.match_groups, ['8080', null]);
    assert.deepEqual(r.match_groupdict, { port: '8080' });
  });
  it('~ and $VARS in path are expanded on the host, as Ansible expands a path', async () => {
    const r = await run({ path: '$WF_DIR/f', timeout: 2 }, `export WF_DIR=${sb.dir}; : > ${sb.p('f')}; `);
    assert.deepEqual([r.failed, r.path, r.state], [undefined, sb.p('f'), 'file']);
    const home = await run({ path: '~/f', timeout: 2 }, `export HOME=${sb.dir}; `);
    assert.deepEqual([home.failed, home.path], [undefined, sb.p('f')]);
    const unset = await run({ path: '~/${WF_UNSET}', timeout: 1 }, `export HOME=${sb.dir}; `);
    assert.equal(unset.msg, `Timeout when waiting for file ${sb.dir}/\${WF_UNSET}`);
  });
  it("timeouts and a file that cannot be stat'ed fail with Ansible's messages", async () => {
    const r = await run({ path: sb.p('none'), timeout: 1 });
    assert.deepEqual([r.failed, r.msg, r.elapsed], [true, `Timeout when waiting for file ${sb.p('none')}`, 1]);
    const absent = await run({ path: sb.dir, state: 'absent', timeout: 1, msg: 'still there' });
    assert.deepEqual([absent.msg, absent.elapsed], ['still there', 1]);
    const notDir = await run({ path: `${sb.p('f')}/x`, timeout: 3 }, `: > ${sb.p('f')}; `);
    assert.equal(notDir.msg, `Failed to stat ${sb.p('f')}/x, Not a directory`);
  });
  it('a listening port is started, a closed one stopped; nothing connected is drained', async () => {
    const server: Server = createServer();
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as { port: number }).port;
    try {
      assert.equal((await run({ port, timeout: 2 })).elapsed, 0);
      const stop = await run({ port, state: 'stopped', timeout: 1 });
      assert.equal(stop.msg, `Timeout when waiting for 127.0.0.1:${port} to stop.`);
      const ctx = sandboxCtx(sb);
      const plan = await planWith(wait_for, { port, state: 'drained', host: '127.0.0.1', timeout: 2 }, ctx);
      assert.equal(applyPlan(plan, sb).result.state, 'drained');
    } finally {
      server.close();
    }
    assert.equal((await run({ port, state: 'stopped', timeout: 2 })).elapsed, 0);
  });
});
