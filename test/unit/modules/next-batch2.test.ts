// hostname, sysctl, known_hosts: argument tables, plans from canned reads, and known_hosts run for real in
// a sandbox (its file is only a file).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hostname } from '../../../src/engine/modules/hostname.js';
import { sysctl, sysctlLines } from '../../../src/engine/modules/sysctl.js';
import { hashHostKey, hostFieldMatches, known_hosts } from '../../../src/engine/modules/known_hosts.js';
import type { Module } from '../../../src/engine/modules/types.js';
import { applyPlan, argTable, cannedCtx, converge, planWith, sandboxCtx, sandboxPerTest } from './fake-host.js';

describe('hostname', () => {
  argTable(hostname as Module<never>, [
    [{ name: 'web1' }, true],
    [{ name: 'web1', use: 'systemd' }, true],
    [{ name: 'web1', use: 'debian' }, true],
    [{ name: 'web1', use: 'redhat' }, false],
    [{}, false],
    [{ name: '' }, false],
  ]);
  const names = (how: string, current: string, permanent: string, fqdn = current) =>
    `how=${how}\ncurrent=${current}\npermanent=${permanent}\nfqdn=${fqdn}\n`;
  it('systemd: sets the static name, then the transient one; diff and facts as Ansible', async () => {
    const plan = await planWith(hostname, { name: 'web1.example.org' }, cannedCtx(names('systemd', 'old', 'old')));
    assert.equal(plan.changed, true);
    assert.match(plan.steps[0].command, / sh web1\.example\.org current permanent$/);
    assert.deepEqual(plan.result, {
      name: 'web1.example.org',
      ansible_facts: {
        ansible_hostname: 'web1',
        ansible_nodename: 'web1.example.org',
        ansible_fqdn: 'old',
        ansible_domain: '',
      },
      diff: { after: 'hostname = web1.example.org\n', before: 'hostname = old\n' },
    });
    assert.deepEqual(plan.finish!([{ code: 0, stdout: 'fqdn=web1.example.org\n', stderr: '' }]), {
      ansible_facts: {
        ansible_hostname: 'web1',
        ansible_nodename: 'web1.example.org',
        ansible_fqdn: 'web1.example.org',
        ansible_domain: 'example.org',
      },
    });
  });
  it('only what differs is set; the same name changes nothing', async () => {
    const perm = await planWith(hostname, { name: 'web1' }, cannedCtx(names('systemd', 'web1', '')));
    assert.match(perm.steps[0].command, / sh web1 '' permanent$/);
    assert.deepEqual((perm.result as { diff: unknown }).diff, { after: 'hostname = web1\n', before: 'hostname = \n' });
    const same = await planWith(hostname, { name: 'web1' }, cannedCtx(names('systemd', 'web1', 'web1')));
    assert.equal(same.changed, false);
    assert.deepEqual(same.steps, []);
    assert.equal((same.result as Record<string, unknown>).diff, undefined);
  });
  it('check mode: changed, no step; over 64 characters with systemd fails; use needs systemd', async () => {
    const check = await planWith(hostname, { name: 'b' }, cannedCtx(names('systemd', 'a', 'a'), { check: true }));
    assert.equal(check.changed, true);
    assert.deepEqual(check.steps, []);
    const long = await planWith(hostname, { name: 'x'.repeat(65) }, cannedCtx(names('systemd', 'a', 'a')));
    assert.match(String(long.failed), /longer than 64/);
    const use = await planWith(hostname, { name: 'b', use: 'systemd' }, cannedCtx(names('file', 'a', 'a')));
    assert.match(String(use.failed), /needs systemd/);
  });
});

describe('sysctl', () => {
  argTable(sysctl as Module<never>, [
    [{ name: 'vm.swappiness', value: 10 }, true],
    [{ key: 'vm.swappiness', val: '10', sysctl_set: true, reload: false, ignoreerrors: 'yes' }, true],
    [{ name: 'vm.swappiness', state: 'absent' }, true],
    [{ name: 'vm.swappiness', value: true, sysctl_file: '/etc/sysctl.d/9.conf' }, true],
    [{ name: 'vm.swappiness' }, false],
    [{ name: 'vm.swappiness', value: 1, val: 1 }, false],
    [{ name: 'a', key: 'b', value: 1 }, false],
    [{ value: 1 }, false],
    [{ name: 'vm.swappiness', value: 1, state: 'on' }, false],
  ]);
  it("rewrites the file as Ansible's does: stripped lines, k=v, each key once", () => {
    const before = '# c\n  a = 1\n; x\n\nb=2\na=3\n';
    assert.deepEqual(sysctlLines(before, 'a', '5', true), { text: '# c\na=5\n; x\n\nb=2\n', had: '3' });
    assert.deepEqual(sysctlLines(before, 'c', '1', true), { text: '# c\na=1\n; x\n\nb=2\nc=1\n', had: undefined });
    assert.deepEqual(sysctlLines(before, 'b', '', false), { text: '# c\na=1\n; x\n\n', had: '2' });
  });
  const read = (proc: string | undefined, file: string | undefined) => (command: string) =>
    command.startsWith('sysctl ')
      ? proc === undefined
        ? { code: 255, stdout: '', stderr: 'sysctl: cannot stat' }
        : `${proc}\n`
      : file === undefined
        ? 'absent\n'
        : `regular file|644|root|root|${file.length}\n${Buffer.from(file).toString('base64')}`;
  const planOf = async (args: Record<string, unknown>, r: ReturnType<typeof read>, check = false) => {
    const ctx = cannedCtx(r, { check });
    const plan = await planWith(sysctl, args as never, ctx);
    assert.equal(ctx.reads.length, 2);
    return plan;
  };
  it('the file differs: written and reloaded; yes is 1; the same value in file and kernel: nothing', async () => {
    const plan = await planOf({ name: 'net.ipv4.ip_forward', value: 'yes' }, read('0', 'net.ipv4.ip_forward=0\n'));
    assert.equal(plan.changed, true);
    assert.equal(plan.steps[0].stdin, 'net.ipv4.ip_forward=1\n');
    assert.match(plan.steps[0].command, / sh net\.ipv4\.ip_forward 1 '' write \/etc\/sysctl\.conf 22 reload ''$/);
    const same = await planOf({ name: 'net.ipv4.ip_forward', value: 1 }, read('1', 'net.ipv4.ip_forward = 1\n'));
    assert.equal(same.changed, false);
    assert.deepEqual(same.steps, []);
  });
  it('the file agrees but the kernel does not: reloaded (no write); sysctl_set sets it', async () => {
    const plan = await planOf({ name: 'k', value: '2' }, read('1', 'k=2\n'));
    assert.equal(plan.changed, true);
    assert.match(plan.steps[0].command, / sh k 2 '' '' \/etc\/sysctl\.conf 4 reload ''$/);
    const set = await planOf({ name: 'k', value: '2', sysctl_set: true, reload: false }, read('1 ', 'k=2\n'));
    assert.match(set.steps[0].command, / sh k 2 set '' /);
    const noReload = await planOf({ name: 'k', value: '2', reload: false }, read('1', 'k=2\n'));
    assert.equal(noReload.changed, false);
  });
  it('absent, a failure message, check mode', async () => {
    const gone = await planOf({ name: 'k', state: 'absent' }, read('1', 'k=1\nj=2\n'));
    assert.equal(gone.steps[0].stdin, 'j=2\n');
    assert.deepEqual(gone.finish!([{ code: 1, stdout: 'Failed to reload sysctl: bad', stderr: '' }]), {
      failed: true,
      changed: false,
      msg: 'Failed to reload sysctl: bad',
    });
    const notThere = await planOf({ name: 'k', state: 'absent' }, read(undefined, undefined));
    assert.equal(notThere.changed, false);
    const check = await planOf({ name: 'k', value: 3 }, read('1', undefined), true);
    assert.equal(check.changed, true);
    assert.deepEqual(check.diff?.[0].after, 'k=3\n');
  });
});

describe('known_hosts', () => {
  const sb = sandboxPerTest();
  const K1 = 'AAAAC3NzaC1lZDI1NTE5AAAAIIypKoJAECclDdUkoo0myGoo23Fc1GUkO2/oAUVIDndq';
  const K2 = 'AAAAC3NzaC1lZDI1NTE5AAAAIDEZhlkEJzJ1vwwQ4hhcaJXb1mk/N8lLjdIcX1S1ccSe';
  argTable(known_hosts as Module<never>, [
    [{ name: 'h', key: `h ssh-ed25519 ${K1}` }, true],
    [{ host: 'h', key: `h ssh-ed25519 ${K1}`, path: '/x', hash_host: true, state: 'present' }, true],
    [{ name: 'h', state: 'absent' }, true],
    [{ key: 'x' }, false],
    [{ name: 'h', host: 'h' }, false],
    [{ name: 'h', state: 'gone' }, false],
  ]);
  it('host fields as ssh-keygen -F matches them: lists, wildcards, negation, case, hashed names', () => {
    assert.ok(hostFieldMatches('a.org,1.2.3.4', 'a.org'));
    assert.ok(hostFieldMatches('*.org', 'a.org'));
    assert.ok(!hostFieldMatches('*.org,!a.org', 'a.org'));
    assert.ok(hostFieldMatches('A.ORG', 'a.org'));
    assert.ok(!hostFieldMatches('[a.org]:22', 'a.org'));
    const hashed = hashHostKey('a.org', `a.org ssh-ed25519 ${K1}`).split(' ')[0];
    assert.match(hashed, /^\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28}$/);
    assert.ok(hostFieldMatches(hashed, 'a.org'));
    assert.ok(!hostFieldMatches(hashed, 'b.org'));
  });
  it('adds, keeps, replaces the key of the same type, removes; returns the file as Ansible', async () => {
    const path = sb.p('kh');
    const add = await converge(known_hosts, { name: 'a.org', key: `a.org ssh-ed25519 ${K1}`, path }, sb);
    assert.equal(readFileSync(path, 'utf8'), `a.org ssh-ed25519 ${K1}\n`);
    assert.equal(add.first.changed, true);
    assert.equal(add.second.changed, false);
    assert.deepEqual((add.first.result as Record<string, unknown>).diff, {
      before_header: '/dev/null',
      after_header: path,
      before: '',
      after: `a.org ssh-ed25519 ${K1}\n`,
    });
    const r = add.applied.result;
    assert.deepEqual(
      [r.name, r.key, r.path, r.hash_host, r.state, r.mode, r.size],
      ['a.org', `a.org ssh-ed25519 ${K1}`, path, false, 'file', '0644', K1.length + 19],
    );
    writeFileSync(path, `# mine\nb.org ssh-ed25519 ${K2}\na.org ssh-ed25519 ${K1}\n`);
    await converge(known_hosts, { name: 'a.org', key: `a.org ssh-ed25519 ${K2}`, path }, sb);
    assert.equal(readFileSync(path, 'utf8'), `# mine\nb.org ssh-ed25519 ${K2}\na.org ssh-ed25519 ${K2}\n`);
    await converge(known_hosts, { name: 'b.org', key: `b.org ssh-ed25519 ${K2}`, path, state: 'absent' }, sb);
    assert.equal(readFileSync(path, 'utf8'), `# mine\na.org ssh-ed25519 ${K2}\n`);
  });
  it("a key that is not the host's, and no key to add, fail; check mode returns only the diff", async () => {
    const path = sb.p('kh');
    const wrong = await planWith(known_hosts, { name: 'c.org', key: `a.org ssh-ed25519 ${K1}`, path }, sandboxCtx(sb));
    assert.equal(wrong.failed, 'Host parameter does not match hashed host field in supplied key');
    const none = await planWith(known_hosts, { name: 'c.org', path }, sandboxCtx(sb));
    assert.equal(none.failed, 'No key specified when adding a host');
    const check = await planWith(
      known_hosts,
      { name: 'a.org', key: `a.org ssh-ed25519 ${K1}`, path },
      sandboxCtx(sb, { check: true }),
    );
    assert.equal(check.changed, true);
    assert.deepEqual(Object.keys(check.result!), ['diff']);
  });
  it('hash_host writes a hashed name that the next run finds; ~ is the home of whom it runs as', async () => {
    const path = sb.p('kh');
    const plan = await planWith(
      known_hosts,
      { name: 'a.org', key: `a.org ssh-ed25519 ${K1}`, path, hash_host: true },
      sandboxCtx(sb),
    );
    applyPlan(plan, sb);
    assert.match(readFileSync(path, 'utf8'), /^\|1\|\S+ ssh-ed25519 /);
    const again = await planWith(
      known_hosts,
      { name: 'a.org', key: `a.org ssh-ed25519 ${K1}`, path, hash_host: true },
      sandboxCtx(sb),
    );
    assert.equal(again.changed, false);
    const home = await planWith(
      known_hosts,
      { name: 'a.org', key: `a.org ssh-ed25519 ${K1}`, path: '~/kh' },
      {
        ...sandboxCtx(sb),
        check: true,
      },
    );
    assert.equal((home.result as { diff: { after_header: string } }).diff.after_header, `${process.env.HOME}/kh`);
  });
});
