// reboot: argument table, check mode, the command line Ansible builds, the failures it reports before
// rebooting, and the wait on a fake host: boot id unchanged, logins refused, a new boot id, a test command
// that fails first; a reboot command that fails; timeouts. The host-side scripts run here for real.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { describe, it } from 'node:test';
import { commandFailure, reboot, rebootCommandLine, statusCommand } from '../../../src/engine/modules/reboot.js';
import type { ConfirmContext, Module } from '../../../src/engine/modules/types.js';
import type { RunResult } from '../../../src/engine/connection/types.js';
import { parseShScript } from '../../../src/engine/util/quote.js';
import { argTable, cannedCtx, planWith, runLocal, sandboxPerTest } from './fake-host.js';

const ok = (stdout: string): RunResult => ({ code: 0, stdout, stderr: '' });
const BOOT = 'cat /proc/sys/kernel/random/boot_id';

/** A host that answers the boot id command with `boots` in turn (the last one from then on). */
function fakeHost(opts: { boots: string[]; refuse?: number; testFails?: number; status?: string }) {
  const h = {
    logins: 0,
    commands: [] as string[],
    host: 'h1',
    via: 'direct',
    run: async (command: string): Promise<RunResult> => {
      h.commands.push(command);
      if (command === BOOT) return ok(`${opts.boots.length > 1 ? opts.boots.shift() : opts.boots[0]}\n`);
      if (command === 'whoami')
        return (opts.testFails ?? 0) > 0 && opts.testFails!-- > 0
          ? { code: 1, stdout: '', stderr: 'not yet' }
          : ok('admin\n');
      if (command.startsWith('sh -c')) return ok(opts.status ?? '');
      return ok('');
    },
    probe: () => Promise.reject(new Error('no route')),
    adopt: async () => undefined,
    reconnect: async () => {
      h.logins++;
      if (h.logins <= (opts.refuse ?? 0)) throw new Error('connect ECONNREFUSED');
    },
  } satisfies ConfirmContext & Record<string, unknown>;
  return h;
}

const facts =
  (boot: RunResult | string, binary = '/sbin/shutdown\n') =>
  (cmd: string) =>
    cmd === BOOT || cmd === 'cat /boot-time' ? boot : cmd.startsWith('sh -c') ? binary : ok('');

describe('reboot', () => {
  argTable(reboot as Module<never>, [
    [{}, true],
    [
      {
        pre_reboot_delay: 0,
        post_reboot_delay: 1,
        reboot_timeout: 60,
        connect_timeout: 5,
        test_command: 'uptime',
        msg: 'bye',
        search_paths: ['/sbin', '/usr/sbin'],
        boot_time_command: 'cat /boot-time',
        reboot_command: 'systemctl reboot',
      },
      true,
    ],
    [{ reboot_timeout: '30' }, true],
    [{ search_paths: '/sbin,/usr/sbin' }, true],
    [{ reboot_timeout: 'soon' }, false],
    [{ connect_timeout: -1 }, false],
    [{ search_paths: [['/sbin']] }, false],
    [{ reboot_command: '' }, false],
    [{ test_command: ['whoami'] }, false],
    [{ reboot_timeout_sec: 10 }, false],
    [{ force: true }, false],
  ]);

  it('check mode: changed, rebooted, elapsed 0; nothing read, nothing done (as Ansible)', async () => {
    const ctx = cannedCtx([], { check: true });
    const p = await planWith(reboot, {}, ctx);
    assert.deepEqual(
      [p.changed, p.result, p.steps, p.confirm, ctx.reads],
      [true, { elapsed: 0, rebooted: true }, [], undefined, []],
    );
  });

  it('refuses a local connection, in check mode too', async () => {
    for (const check of [false, true]) {
      const p = await planWith(reboot, {}, { ...cannedCtx([], { check }), via: 'local' });
      assert.equal(p.failed, 'Running reboot with local connection would reboot the control node.');
      assert.deepEqual([p.changed, p.result], [false, { elapsed: 0, rebooted: false }]);
    }
  });

  it('reads the boot id and finds shutdown in the search paths, in one go; an absolute command is not looked for', async () => {
    const ctx = cannedCtx(facts(ok('abc\n')));
    const p = await planWith(reboot, {}, ctx);
    assert.equal(ctx.reads[0], BOOT);
    assert.match(ctx.reads[1], /shutdown \/sbin \/bin \/usr\/sbin \/usr\/bin \/usr\/local\/sbin$/);
    assert.equal(p.changed, true);
    assert.deepEqual(parseShScript(p.steps[0].command)?.args, ["/sbin/shutdown -r 0 'Reboot initiated by Ansible'"]);
    const abs = cannedCtx(facts(ok('abc\n')));
    await planWith(reboot, { reboot_command: '/usr/bin/systemctl reboot', boot_time_command: 'cat /boot-time' }, abs);
    assert.deepEqual(abs.reads, ['cat /boot-time']);
  });

  it('builds the command line as Ansible does', () => {
    assert.equal(rebootCommandLine({}, '/sbin/shutdown'), "/sbin/shutdown -r 0 'Reboot initiated by Ansible'");
    assert.equal(rebootCommandLine({ pre_reboot_delay: 179, msg: 'ok' }, '/sbin/shutdown'), '/sbin/shutdown -r 2 ok');
    assert.equal(rebootCommandLine({ pre_reboot_delay: -5 }, 'x'), "x -r 0 'Reboot initiated by Ansible'");
    // reboot_command: its binary found, its words kept; pre_reboot_delay and msg unused.
    assert.equal(
      rebootCommandLine({ reboot_command: 'shutdown -r now', pre_reboot_delay: 120, msg: 'm' }, '/usr/sbin/shutdown'),
      '/usr/sbin/shutdown -r now',
    );
    assert.equal(rebootCommandLine({ reboot_command: 'reboot' }, '/usr/sbin/reboot'), '/usr/sbin/reboot ');
  });

  it('msg: the words Ansible\'s "{message}" gives, where its double quotes keep the text as it is', () => {
    // What sh makes of a command line's words after the binary.
    const words = (line: string) =>
      spawnSync('sh', ['-c', `printf '%s\\0' ${line}`], {
        encoding: 'utf8',
        env: { HOME: '/home/x', PATH: process.env.PATH },
      })
        .stdout.split('\0')
        .slice(0, -1);
    const ours = (msg: string) => words(rebootCommandLine({ msg }, '').trim());
    // Ansible's action: '-r {delay_min} "{message}"', the message put in as it is.
    const ansibles = (msg: string) => words(`-r 0 "${msg}"`);
    for (const msg of ['Rebooting now', "it's {late}; #1 & done!", 'a  b\ttab', '*'])
      assert.deepEqual(ours(msg), ansibles(msg), msg);
    // $, `, \ and " Ansible's leaves to the host's shell (expanded, run, or a broken line): relay-play
    // passes the text as written, never run.
    for (const msg of ['$HOME', '`id`', '$(id)', 'a\\b', 'say "hi"'])
      assert.deepEqual(ours(msg), ['-r', '0', msg], msg);
  });

  it("fails before rebooting when the boot id can't be read (Ansible's words, its `reboot` key)", async () => {
    const p = await planWith(reboot, {}, cannedCtx(facts({ code: 1, stdout: '', stderr: 'no such file' })));
    assert.equal(p.failed, 'reboot: failed to get host boot time info, rc: 1, stdout: , stderr: no such file');
    assert.deepEqual([p.changed, p.result, p.steps], [false, { reboot: false }, []]);
  });

  it('fails before rebooting when the command is in no search path', async () => {
    await assert.rejects(
      planWith(
        reboot,
        { reboot_command: 'restart now', search_paths: '/opt/bin,/sbin' },
        cannedCtx(facts(ok('abc\n'), '')),
      ),
      { message: `Unable to find command "restart" in search paths: ['/opt/bin', '/sbin']` },
    );
  });

  it('waits through refused logins and an unchanged boot id, then runs the test command until it succeeds', async () => {
    const p = await planWith(reboot, { reboot_timeout: 30 }, cannedCtx(facts(ok('old\n'))));
    const h = fakeHost({ boots: ['old', 'new'], refuse: 1, testFails: 1 });
    const done = await p.confirm!(h, [ok('/tmp/tmp.X\n')]);
    assert.equal(done.failed, undefined);
    assert.equal(done.result?.rebooted, true);
    assert.equal(typeof done.result?.elapsed, 'number');
    // refused, then the old boot id (the reboot command's status read: not ended), then the new one
    assert.equal(h.logins, 3);
    assert.deepEqual(
      h.commands.map((c) => c.split(' ')[0]),
      ['cat', 'sh', 'cat', 'whoami', 'whoami', 'rm'],
    );
    assert.equal(h.commands[5], 'rm -rf -- /tmp/tmp.X');
  });

  it('a reboot command that failed ends the wait with its output, rebooted: false', async () => {
    const p = await planWith(reboot, {}, cannedCtx(facts(ok('old\n'))));
    const h = fakeHost({ boots: ['old'], status: '1\n3\nout\nAccess denied\n' });
    const done = await p.confirm!(h, [ok('/tmp/tmp.X\n')]);
    assert.equal(done.failed, "Reboot command failed. Error was: 'out, Access denied'");
    assert.deepEqual(done.result, { changed: false, rebooted: false, elapsed: 0 });
    assert.equal(h.logins, 1);
  });

  it("times out with Ansible's words: changed false, rebooted true", async () => {
    const p = await planWith(reboot, { reboot_timeout: 1 }, cannedCtx(facts(ok('old\n'))));
    const done = await p.confirm!(fakeHost({ boots: ['old'] }), [ok('/tmp/tmp.X\n')]);
    assert.equal(done.failed, 'Timed out waiting for last boot time check (timeout=1)');
    assert.deepEqual([done.result?.changed, done.result?.rebooted], [false, true]);
    const p2 = await planWith(reboot, { reboot_timeout: 1, test_command: 'whoami' }, cannedCtx(facts(ok('old\n'))));
    const late = await p2.confirm!(fakeHost({ boots: ['new'], testFails: 99 }), [ok('/tmp/tmp.X\n')]);
    assert.equal(late.failed, 'Timed out waiting for post-reboot test command (timeout=1)');
  });

  it('a test command whose connection was lost is tried again on a new login', async () => {
    const p = await planWith(reboot, { reboot_timeout: 30 }, cannedCtx(facts(ok('old\n'))));
    const h = fakeHost({ boots: ['new'] });
    let drops = 1;
    const run = h.run;
    h.run = async (c: string) => {
      if (c === 'whoami' && drops-- > 0) throw new Error('connection lost');
      return run(c);
    };
    const done = await p.confirm!(h, [ok('/tmp/tmp.X\n')]);
    assert.equal(done.result?.rebooted, true);
    assert.equal(h.logins, 2, 'one login for the boot id, one after the lost test command');
  });

  it('a try that never ends (a host gone quiet) ends with the stage', async () => {
    const p = await planWith(reboot, { reboot_timeout: 1 }, cannedCtx(facts(ok('old\n'))));
    const h = { ...fakeHost({ boots: ['old'] }), reconnect: () => new Promise<void>(() => undefined) };
    const done = await p.confirm!(h, [ok('/tmp/tmp.X\n')]);
    assert.equal(done.failed, 'Timed out waiting for last boot time check (timeout=1)');
  });

  it("reads the detached command's status: nothing until it ends, nothing when it succeeded", () => {
    assert.equal(commandFailure(''), undefined);
    assert.equal(commandFailure('0\n'), undefined);
    assert.equal(
      commandFailure('127\n0\nsh: 1: nope: not found\n'),
      "Reboot command failed. Error was: ', sh: 1: nope: not found'",
    );
    assert.equal(commandFailure('2\n5\nä\nb\nc\n'), "Reboot command failed. Error was: 'ä\nb, c'");
  });

  describe('on this machine', () => {
    const sb = sandboxPerTest();
    it('a local host is refused by the runner, delegated to localhost too, in check mode too', () => {
      // A harmless reboot_command, should the refusal ever fail.
      writeFileSync(sb.p('inventory.yaml'), stringify({ all: { hosts: { h1: { ansible_connection: 'local' } } } }));
      const task = { reboot: { reboot_command: '/bin/true', reboot_timeout: 1 }, register: 'r', ignore_errors: true };
      const tasks = [task, { ...task, delegate_to: 'localhost' }, { ...task, check_mode: true }];
      writeFileSync(sb.p('pb.yaml'), stringify([{ hosts: 'h1', gather_facts: false, tasks }]));
      const cli = fileURLToPath(new URL('../../../../bin/relay-play.js', import.meta.url));
      const r = spawnSync(process.execPath, [cli, 'run', '--json', sb.p('pb.yaml'), '-i', sb.p('inventory.yaml')], {
        encoding: 'utf8',
      });
      const json = JSON.parse(r.stdout) as { plays: { tasks: { hosts: Record<string, Record<string, unknown>> }[] }[] };
      for (const t of json.plays[0].tasks)
        assert.deepEqual(
          [t.hosts.h1.failed, t.hosts.h1.msg, t.hosts.h1.rebooted],
          [true, 'Running reboot with local connection would reboot the control node.', false],
        );
    });
    it('finds the command in the first search path holding it, a link too', async () => {
      for (const d of ['a', 'b', 'c']) mkdirSync(sb.p(d));
      writeFileSync(sb.p('b', 'shutdown'), '');
      symlinkSync('/nowhere', sb.p('a', 'shutdown'));
      const ctx = {
        ...cannedCtx([]),
        read: (c: string) => (c === BOOT ? ok('x\n') : runLocal(c, sb.dir)),
      };
      const p = await planWith(reboot, { search_paths: [sb.p('c'), sb.p('a') + '/', sb.p('b')] }, ctx);
      assert.match(parseShScript(p.steps[0].command)!.args[0], new RegExp(`^${sb.p('a')}/shutdown -r 0`));
    });

    it('starts the command detached, and its failure can be read afterwards', async () => {
      const t0 = Date.now();
      const started = runLocal(
        (await planWith(reboot, { reboot_command: `${sb.p('fail')} x` }, cannedCtx(facts(ok('x\n'))))).steps[0].command,
        sb.dir,
      );
      assert.ok(Date.now() - t0 < 900, 'returns before the command runs');
      writeFileSync(sb.p('fail'), '#!/bin/sh\necho "out $1"; echo oops >&2; exit 3\n', { mode: 0o755 });
      const dir = started.stdout.trim();
      assert.equal(started.code, 0, started.stderr);
      const status = () => runLocal(statusCommand(dir), sb.dir).stdout;
      assert.equal(commandFailure(status()), undefined, 'not ended yet');
      await new Promise((r) => setTimeout(r, 1600));
      assert.equal(commandFailure(status()), "Reboot command failed. Error was: 'out x, oops'");
      runLocal(`rm -rf -- ${dir}`, sb.dir);
    });
  });
});
