// rotate with several relays, without hosts: the device's check of its new key against each of its relays
// (the role's script, run here by sh with a fake ssh), which tunnels switch, and relay_tunnel restarting
// a tunnel whose key an earlier task switched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { bundledRolesDir } from '../../src/relay/app.js';
import { renderDeep } from '../../src/engine/template/jinja.js';
import { relay_tunnel } from '../../src/relay/modules/relay_tunnel.js';
import { parseShScript } from '../../src/engine/util/quote.js';
import { cannedCtx, planWith } from './modules/fake-host.js';
import { relayTunnelRead } from './relay-tunnel-read.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const role = join(bundledRolesDir(), 'reverse-tunnel-service');
const tasks = parse(readFileSync(join(role, 'tasks', 'rotate-switch.yaml'), 'utf8')) as Record<string, unknown>[];
const checkArgv = (tasks[0].command as { argv: string[] }).argv;

const TUNNELS = [
  { name: 'ra', address: '10.0.0.1', ssh_port: 22, unit: 'relay-tunnel.service', suffix: '', host_key: KEY },
  { name: 'rb', address: '10.0.0.2', ssh_port: 2222, unit: 'relay-tunnel-rb.service', suffix: '-rb', host_key: KEY },
];

const dir = mkdtempSync(join(tmpdir(), 'relay-play-rotate-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// ssh as the relays answer, by address: accepted (ForceCommand /bin/false: exit 1), refused, no answer.
// Each call is logged with the pinned key file it was given; each takes a second.
const bin = join(dir, 'bin');
spawnSync('mkdir', ['-p', bin, join(dir, 'etc')]);
writeFileSync(
  join(bin, 'ssh'),
  `#!/bin/sh
for a; do case $a in UserKnownHostsFile=*) pin=\${a#*=} ;; relay@*) at=\${a#relay@} ;; esac; done
echo "$at $pin" >> "${dir}/calls"
sleep 1
case $(cat "${dir}/answer-$at" 2>/dev/null) in
  accepted) exit 1 ;;
  refused) echo "relay@$at: Permission denied (publickey)." >&2; exit 255 ;;
  *) echo "ssh: connect to host $at port 22: Connection timed out" >&2; exit 255 ;;
esac
`,
);
chmodSync(join(bin, 'ssh'), 0o755);

/** The check as the device runs it: ra and rb answering as given, each ready (set up in this run) or not. */
function check(answers: Record<string, string>, ready: Record<string, boolean>, newKey = true) {
  const etc = join(dir, 'etc');
  rmSync(join(etc, 'id_relay.new'), { force: true });
  rmSync(join(dir, 'calls'), { force: true });
  if (newKey) writeFileSync(join(etc, 'id_relay.new'), 'key\n');
  for (const t of TUNNELS) writeFileSync(join(dir, `answer-${t.address}`), answers[t.name] ?? 'none');
  const hostvars = Object.fromEntries(TUNNELS.map((t) => [t.name, ready[t.name] ? { relay_ready: true } : {}]));
  const relays = renderDeep(checkArgv[4], { tunnel_relays: TUNNELS, hostvars });
  const t0 = Date.now();
  const r = spawnSync('sh', ['-c', checkArgv[2], 'sh', relays, etc], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
  const calls = newKey ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').sort() : [];
  const stdoutLines = r.stdout.split('\n').filter(Boolean);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, stdoutLines, calls, s: (Date.now() - t0) / 1000 };
}

/** key_switch_tunnels as the role's set_fact makes it from the check's output. */
const switching = (stdoutLines: string[]) =>
  (
    renderDeep((tasks[1].set_fact as Record<string, string>).key_switch_tunnels, {
      tunnel_relays: TUNNELS,
      key_check: { stdout_lines: stdoutLines },
    }) as unknown as { name: string }[]
  ).map((t) => t.name);

describe('rotate with several relays: the device checks its new key against each relay', () => {
  it('both relays accept it: both tunnels switch; each relay checked at its address with its own pinned key, at once', () => {
    const r = check({ ra: 'accepted', rb: 'accepted' }, { ra: true, rb: true });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [`10.0.0.1 ${dir}/etc/known_hosts`, `10.0.0.2 ${dir}/etc/known_hosts-rb`]);
    assert.ok(r.s < 1.8, `both checked at once (${r.s} s)`);
    assert.deepEqual(switching(r.stdoutLines), ['ra', 'rb']);
  });

  it('a relay not reached (from the run, and from the device): the switch goes on through the other', () => {
    const r = check({ ra: 'accepted' }, { ra: true, rb: false });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^rb: not reached from the device \(ssh: connect to host 10\.0\.0\.2 port 22: Connection timed out\)$/m,
    );
    assert.deepEqual(switching(r.stdoutLines), ['ra']);
  });

  it('a relay the device reaches that refuses the new key: no switch, named', () => {
    for (const ready of [true, false]) {
      const r = check({ ra: 'accepted', rb: 'refused' }, { ra: true, rb: ready });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /^relay rb refuses the new key; keeping the old one$/m);
    }
  });

  it('a relay that accepts the key but was not set up in this run: its tunnel is not switched through it', () => {
    const r = check({ ra: 'accepted', rb: 'accepted' }, { ra: false, rb: true });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(switching(r.stdoutLines), ['rb']);
    const none = check({ ra: 'accepted' }, { ra: false, rb: false });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no relay set up in this run accepts the new key from the device \(not reached: rb\)/);
  });

  it('no new key waiting: nothing checked, nothing switched', () => {
    const r = check({}, { ra: true, rb: true }, false);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(switching(r.stdoutLines), []);
  });
});

describe('rotate with several relays: relay_tunnel restarts a tunnel for the key switched before', () => {
  const tpl = (name: string) => join(role, 'templates', name);
  const fileLine = (content: string, attrs = 'root:root:644') => ({ attrs, content });
  it('restart: a change like any other (kept for a rollback, restarted with one armed, confirmed through its relay)', async () => {
    const files = [
      // The fake host renders templates as they are written.
      fileLine(readFileSync(tpl('relay-tunnel.service.hbs'), 'utf8')),
      fileLine(`relay-play-relay ${KEY}\n`),
      fileLine(readFileSync(tpl('relay-play-rollback.service.hbs'), 'utf8')),
      fileLine(readFileSync(tpl('tunnel-rollback.sh.hbs'), 'utf8'), 'root:root:755'),
    ];
    const read = relayTunnelRead(files, 'relay-tunnel.service relay-tunnel-rb.service ');
    const shown =
      'ActiveState=active\nUnitFileState=enabled\nInvocationID=abc\n\nActiveState=inactive\nUnitFileState=enabled\nInvocationID=\n';
    const args = {
      src: tpl('relay-tunnel.service.hbs'),
      rollback_src: tpl('tunnel-rollback.sh.hbs'),
      rollback_unit_src: tpl('relay-play-rollback.service.hbs'),
      relay_host_key: KEY,
      unit: 'relay-tunnel-rb.service',
      relay: 'rb',
    };
    const ctx = () => cannedCtx((command) => (command.startsWith('systemctl show ') ? shown : read));
    const same = await planWith(relay_tunnel, args as never, ctx());
    assert.equal(same.changed, false, 'control: without restart, nothing to do');
    const p = await planWith(relay_tunnel, { ...args, restart: true } as never, ctx());
    assert.equal(p.changed, true);
    assert.equal(p.msg, 'restarting with the new relay key');
    assert.deepEqual(
      p.steps.map((s) => s.describe),
      [
        'keep the running tunnel configuration for a rollback',
        'restart relay-tunnel-rb.service with a rollback armed (60 s)',
      ],
    );
    const snapshot = parseShScript(p.steps[0].command)!.args;
    assert.deepEqual([snapshot[1], snapshot[3]], ['relay-tunnel-rb.service', '-rb']);
    const sw = parseShScript(p.steps[1].command)!.args;
    assert.equal(sw[3], '', 'no key moved: an earlier task switched it');
    assert.ok(p.confirm, 'confirmed through its relay');
  });
});
