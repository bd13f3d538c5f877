// Day 2 without hosts: the bundled playbooks pass pre-flight, inventory checks for forwards and
// NixOS hosts, relay_fleet's facts, the role templates with forwards and rotation, relay_sessions,
// status parsing and table, and the NixOS configuration (parsed by nix-instantiate when installed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError } from '../../src/engine/util/errors.js';
import { parseInventory, type Inventory } from '../../src/engine/inventory/index.js';
import { relay_fleet } from '../../src/relay/modules/relay_fleet.js';
import { relay_sessions } from '../../src/relay/modules/relay_sessions.js';
import { loadPlaybook } from '../../src/engine/playbook/load.js';
import { bundledPlaybook, bundledRolesDir, relayApp } from '../../src/relay/app.js';
import { renderHandlebars } from '../../src/engine/template/handlebars.js';
import { renderString } from '../../src/engine/template/jinja.js';
import { evalExpr, parseExpr, truthy } from '../../src/engine/template/expr.js';
import { emptyFleet, parseFleet, planFleet, serializeFleet } from '../../src/relay/fleet.js';
import { NIXOS_GROUP, prepareRelayInventory } from '../../src/relay/inventory.js';
import { deviceNix, nixLines, nixString, relayNix } from '../../src/relay/nixos.js';
import {
  deviceError,
  humanDuration,
  parseProbe,
  statusScript,
  statusRows,
  statusTable,
} from '../../src/relay/status.js';
import { preflight } from '../../src/engine/runner/preflight.js';
import { selectHosts } from '../../src/engine/inventory/index.js';
import { TARGETS_GROUP } from '../../src/relay/commands/relay-run.js';
import { cannedCtx, planRaw } from './modules/fake-host.js';
import { fakeKey } from './keys.js';

const KEY = fakeKey;

const INVENTORY = `all:
  vars: {ansible_user: admin}
  children:
    relay: {hosts: {server: {ansible_host: 198.18.0.10}}}
    devices:
      hosts:
        rpi1: {ansible_host: 198.18.0.11, forwards: [{name: web, port: 80}, {name: cam, port: 554, local_port: 8554}]}
        rpi2: {ansible_host: 198.18.0.12, tunnel_port: 22230}
        nix1: {ansible_host: 198.18.0.13, os: nixos, relay_public_key: "${KEY(7)} relay-access nix1"}
    clients: {hosts: {client: {ansible_host: 198.18.0.14}}}
`;
const prepared = (text = INVENTORY): Inventory => {
  const inv = parseInventory(text, 'inv.yaml');
  prepareRelayInventory(inv);
  return inv;
};
const inputError = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.match(e.message, re);
    assert.ok(e.hint);
    return true;
  });

describe('day 2: inventory', () => {
  it('NixOS hosts form their own group, which the playbooks leave alone', () => {
    const inv = prepared();
    assert.deepEqual(inv.groups.get(NIXOS_GROUP), ['nix1']);
    assert.deepEqual(selectHosts(inv, 'devices:!relay_play_nixos'), ['rpi1', 'rpi2']);
  });

  it('forwards are checked: list of {name, port}, names, ports, clashes', () => {
    const withFw =
      (fw: string, extra = '') =>
      () =>
        prepared(INVENTORY.replace('{name: web, port: 80}, {name: cam, port: 554, local_port: 8554}', fw) + extra);
    inputError(withFw('{name: Web!, port: 80}'), /not a lower-case name/);
    inputError(withFw('{name: web, port: 0}'), /port of forward web of rpi1/);
    inputError(withFw('{name: web, port: 80}, {name: web, port: 81}'), /two forwards named web/);
    inputError(
      withFw('{name: web, port: 80, relay_port: 22230}'),
      /device rpi2 and forward web of rpi1 both use relay port 22230|forward web of rpi1 and device rpi2 both use relay port 22230/,
    );
    inputError(withFw('{name: web, port: 80, colour: red}'), /unknown key "colour"/);
    inputError(withFw('{name: web, port: 80, host: "a b"}'), /host of forward web/);
    inputError(
      () => prepared(INVENTORY.replace('forwards: [', 'forwards: [{name: x, port: 1}, ').replace('rpi2:', 'rpi1-x:')),
      /would be called rpi1-x/,
    );
    inputError(
      () => prepared(INVENTORY.replace(`"${KEY(7)} relay-access nix1"`, 'not-a-key')),
      /relay_public_key of nix1 is not an OpenSSH public key/,
    );
  });
});

describe("the port devices dial and the port the relay's sshd listens on", () => {
  const withRelay = (extra: string) =>
    prepared(INVENTORY.replace('server: {ansible_host: 198.18.0.10}', `server: {ansible_host: 198.18.0.10, ${extra}}`));
  const ports = (inv: Inventory) =>
    Object.fromEntries(
      ['server', 'rpi1', 'client'].map((h) => [
        h,
        [inv.hosts.get(h)!.vars.relay_ssh_port, inv.hosts.get(h)!.vars.relay_sshd_port],
      ]),
    );

  it("both 22 by default; the relay's relay_ssh_port reaches every host, and sshd listens on it unless told", () => {
    assert.deepEqual(ports(prepared()), { server: [22, 22], rpi1: [22, 22], client: [22, 22] });
    assert.deepEqual(ports(withRelay('relay_ssh_port: 2222')), {
      server: [2222, 2222],
      rpi1: [2222, 2222],
      client: [2222, 2222],
    });
  });

  it('behind a port forward: relay_ssh_port 2222 dialled, relay_sshd_port 22 listened on', () => {
    assert.deepEqual(ports(withRelay('relay_ssh_port: 2222, relay_sshd_port: 22')), {
      server: [2222, 22],
      rpi1: [2222, 22],
      client: [2222, 22],
    });
  });

  it('relay_sshd_port must be a port number', () => {
    inputError(() => withRelay('relay_sshd_port: "22 -o x"'), /relay_sshd_port of server must be a port number/);
    inputError(() => withRelay('relay_sshd_port: 0'), /relay_sshd_port of server must be a port number/);
  });
});

describe('day 2: playbooks pass pre-flight', () => {
  for (const name of ['site', 'remove', 'rotate'] as const) {
    it(`${name}.yaml`, () => {
      const inv = prepared();
      inv.groups.set(TARGETS_GROUP, ['rpi1']);
      const pb = loadPlaybook(bundledPlaybook(name), relayApp);
      const playHosts = pb.plays.map((p) => selectHosts(inv, p.hosts, p.hostsPos));
      assert.doesNotThrow(() => preflight(pb, inv, playHosts, relayApp.modules));
      if (name === 'site') assert.ok(!playHosts.flat().includes('nix1'), 'a NixOS device is in no play');
    });
  }
  it('a NixOS relay only gets its fleet state recorded (and the run notes it is done: a fact, nothing on the host)', () => {
    const inv = prepared(
      INVENTORY.replace('server: {ansible_host: 198.18.0.10}', 'server: {ansible_host: 198.18.0.10, os: nixos}'),
    );
    const pb = loadPlaybook(bundledPlaybook('site'), relayApp);
    const relayPlays = pb.plays.filter((p) => selectHosts(inv, p.hosts).includes('server'));
    assert.deepEqual(
      relayPlays.map((p) => p.tasks.map((t) => t.module)),
      [['relay_fleet_read'], ['file', 'relay_fleet', 'sshd_check'], ['set_fact']],
    );
    // The sshd check (it looks for a drop-in directory NixOS does not use) is skipped there.
    const runs = (i: Inventory) =>
      relayPlays[1].tasks[2].when.every((c) =>
        truthy(evalExpr(parseExpr(c), { inventory_hostname: 'server', groups: Object.fromEntries(i.groups) })),
      );
    assert.equal(runs(inv), false);
    assert.equal(runs(prepared()), true, 'it runs on other relays');
  });
});

describe('day 2: relay_fleet facts and the role templates', () => {
  const inv = prepared();
  const hostvars = Object.fromEntries([...inv.hosts].map(([n, h]) => [n, { ...h.vars }]));
  hostvars.rpi1.relay_key = { public_key: KEY(1) };
  hostvars.rpi1.relay_key_next = { public_key: KEY(11) };
  hostvars.rpi2.relay_key = { public_key: KEY(2) };
  hostvars.client.jump_key = { public_key: KEY(9) };
  const old = planFleet(emptyFleet(), { devices: [{ name: 'gone', relayKey: KEY(5) }], clients: [], portBase: 22221 });
  const args = (extra = {}) => ({
    devices: ['rpi1', 'rpi2', 'nix1'],
    clients: ['client'],
    hostvars,
    port_base: 22221,
    state_file: '/var/lib/relay-play/fleet.json',
    host_key: '/etc/ssh/ssh_host_ed25519_key.pub',
    ...extra,
  });
  const run = async (extra = {}) =>
    planRaw(
      relay_fleet,
      args(extra),
      cannedCtx(`${KEY(3)} root@server\n---relay-play---\n${serializeFleet(old)}`, { host: 'server' }),
    );

  it('keeps a device missing from the inventory, and reports it', async () => {
    const plan = await run();
    assert.equal(plan.failed, undefined);
    assert.deepEqual(plan.facts!.server.relay_kept, ['gone']);
    assert.deepEqual(plan.facts!.server.relay_dropped_ports, []);
    assert.match(plan.msg!, /kept .*gone/);
  });

  it('prune drops it and names its port for relay_sessions', async () => {
    const plan = await run({ prune: 'yes' });
    assert.deepEqual(plan.facts!.server.relay_dropped, ['gone']);
    assert.deepEqual(plan.facts!.server.relay_dropped_ports, [22221]);
  });

  it('templates: authorized_keys (forwards, rotation, NixOS key), tunnel unit, client config', async () => {
    const plan = await run({ prune: true });
    const f = plan.facts!;
    assert.deepEqual(f.rpi1.tunnel_forwards, [
      { name: 'cam', alias: 'rpi1-cam', port: 554, relay_port: 22223, host: 'localhost', local_port: 8554 },
      { name: 'web', alias: 'rpi1-web', port: 80, relay_port: 22224, host: 'localhost', local_port: 22224 },
    ]);
    const tpl = (role: string, file: string) => readFileSync(join(bundledRolesDir(), role, 'templates', file), 'utf8');
    const keys = String(renderHandlebars(tpl('authorized-key', 'authorized_keys.hbs'), f.server));
    const lines = keys.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(lines, [
      `restrict,port-forwarding,permitlisten="localhost:22221",permitopen="localhost:1" ${KEY(7)} relay-play device nix1`,
      `restrict,port-forwarding,permitlisten="localhost:22222",permitlisten="localhost:22223",permitlisten="localhost:22224",permitopen="localhost:1" ${KEY(1)} relay-play device rpi1`,
      `restrict,port-forwarding,permitlisten="localhost:22222",permitlisten="localhost:22223",permitlisten="localhost:22224",permitopen="localhost:1" ${KEY(11)} relay-play device rpi1`,
      `restrict,port-forwarding,permitlisten="localhost:22230",permitopen="localhost:1" ${KEY(2)} relay-play device rpi2`,
      `restrict,port-forwarding,permitlisten="localhost:1",permitopen="localhost:22221",permitopen="localhost:22222",permitopen="localhost:22223",permitopen="localhost:22224",permitopen="localhost:22230" ${KEY(9)} relay-play client client`,
    ]);
    const unit = String(
      renderHandlebars(tpl('reverse-tunnel-service', 'relay-tunnel.service.hbs'), {
        tunnel_suffix: '',
        ...hostvars.rpi1,
        ...f.rpi1,
      }),
    );
    assert.match(
      unit,
      / -R localhost:22222:localhost:22 -R localhost:22223:localhost:554 -R localhost:22224:localhost:80 relay@198\.18\.0\.10$/m,
    );
    const plain = String(
      renderHandlebars(tpl('reverse-tunnel-service', 'relay-tunnel.service.hbs'), {
        tunnel_suffix: '',
        ...hostvars.rpi2,
        ...f.rpi2,
      }),
    );
    assert.match(
      plain,
      / -R localhost:22230:localhost:22 relay@198\.18\.0\.10$/m,
      'no forwards: the unit is as before',
    );
    const block = (YAMLtask() as { blockinfile: { block: string } }).blockinfile.block;
    const cfg = String(renderString(block, { ...hostvars.client, ...f.client, client_home: '/home/admin' }));
    assert.match(
      cfg,
      /^Host rpi1-web\n {4}HostName 198\.18\.0\.10\n {4}Port 22\n {4}User relay\n {4}IdentityFile \/home\/admin\/\.ssh\/id_relay_access\n(.*\n)*? {4}LocalForward localhost:22224 localhost:22224\n {4}ExitOnForwardFailure yes\n/m,
    );
    assert.match(cfg, /^Host rpi1-cam\n(.*\n)*? {4}LocalForward localhost:8554 localhost:22223\n/m);
  });
});

function YAMLtask(): unknown {
  const pb = loadPlaybook(bundledPlaybook('site'), relayApp);
  const task = pb.plays.flatMap((p) => p.tasks).find((t) => t.module === 'blockinfile')!;
  return { blockinfile: task.args };
}

describe('day 2: relay_sessions', () => {
  const SS =
    'LISTEN 0 128 127.0.0.1:22221 0.0.0.0:* users:(("sshd",pid=1234,fd=10))\nLISTEN 0 128 [::1]:22221 [::]:* users:(("sshd",pid=1234,fd=9))\n';
  it('ends the sshd session holding a dropped port; nothing to do is no change', async () => {
    const plan = await planRaw(relay_sessions, { close_ports: [22221, 22222] }, cannedCtx(SS));
    assert.equal(plan.changed, true);
    assert.equal(plan.steps.length, 1);
    assert.match(plan.steps[0].command, /^kill -TERM 1234 /);
    assert.deepEqual(plan.result, { closed: [22221] });
    const none = await planRaw(relay_sessions, { close_ports: [22222] }, cannedCtx(SS));
    assert.equal(none.changed, false);
    const empty = await planRaw(relay_sessions, { close_ports: [] }, cannedCtx([]));
    assert.equal(empty.changed, false, 'no read at all');
  });
});

describe('day 2: the status script (run here, on a fleet state file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-play-status-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const withClients = planFleet(emptyFleet(), {
    devices: [
      {
        name: 'rpi1',
        hostKey: KEY(1),
        forwards: [
          { name: 'web', port: 80 },
          { name: 'ssh2', port: 22 },
        ],
      },
      { name: 'rpi2', hostKey: KEY(2), explicitPort: 22240 },
    ],
    clients: [{ name: 'laptop', jumpKey: KEY(9) }],
    portBase: 22221,
  });
  const file = join(dir, 'fleet.json');
  writeFileSync(file, serializeFleet(withClients));
  const script = (...ports: number[]) =>
    spawnSync('sh', ['-c', statusScript(), 'sh', file, join(dir, 'run'), ...ports.map(String)], { encoding: 'utf8' });

  it("finds the device ports in the state file (not the forwards' ports on either side, not the clients), and prints the file", () => {
    const r = script();
    assert.equal(r.status, 0, r.stderr);
    const probe = parseProbe(r.stdout);
    const ports = Object.values(withClients.devices)
      .map((d) => d.port)
      .sort((a, b) => a - b);
    assert.deepEqual(
      [...probe.ports].sort((a, b) => a - b),
      ports,
    );
    assert.deepEqual(parseFleet(probe.fleet), withClients);
  });

  it('with ports given, those ports', () => {
    assert.deepEqual(parseProbe(script(40001, 40002).stdout).ports, [40001, 40002]);
  });
});

describe('day 2: status', () => {
  const fleet = planFleet(emptyFleet(), {
    devices: [
      { name: 'rpi1', hostKey: KEY(1), forwards: [{ name: 'web', port: 80 }] },
      { name: 'rpi2', hostKey: KEY(2) },
      { name: 'rpi3', hostKey: KEY(3) },
      { name: 'rpi4', hostKey: KEY(4) },
      { name: 'zold', hostKey: KEY(6) },
    ],
    clients: [],
    portBase: 22221,
  });
  // rpi1 22221 (+web 22222) up; rpi2 22223 down (not listening); rpi3 22224 wrong key; rpi4 22225 no answer.
  const OUT = [
    '---scan yes',
    '---ss',
    'LISTEN 0 128 127.0.0.1:22221 0.0.0.0:* users:(("sshd",pid=100,fd=10))',
    'LISTEN 0 128 127.0.0.1:22222 0.0.0.0:* users:(("sshd",pid=100,fd=11))',
    'LISTEN 0 128 127.0.0.1:22224 0.0.0.0:* users:(("sshd",pid=200,fd=10))',
    'LISTEN 0 128 127.0.0.1:22225 0.0.0.0:* users:(("sshd",pid=300,fd=10))',
    'LISTEN 0 128 127.0.0.1:22226 0.0.0.0:* users:(("sshd",pid=400,fd=10))',
    '---ps',
    '  100  3725',
    '  200    10',
    '  400    50',
    '---key 22221',
    `[127.0.0.1]:22221 ${KEY(1)}`,
    '---key 22223',
    '---key 22224',
    `[127.0.0.1]:22224 ${KEY(9)}`,
    '---key 22225',
    '---key 22226',
    `# 127.0.0.1:22226 SSH-2.0-OpenSSH_9.2p1`,
    `[127.0.0.1]:22226 ${KEY(6)}`,
    '',
  ].join('\n');
  const now = new Date('2026-01-01T12:00:00Z');
  const rows = statusRows(['rpi1', 'rpi2', 'rpi3', 'rpi4', 'rpi9'], fleet, parseProbe(OUT), now);

  it('up needs the port listening AND the pinned host key through it', () => {
    assert.deepEqual(
      rows.map((r) => [r.name, r.port, r.up]),
      [
        ['rpi1', 22221, true],
        ['rpi2', 22223, false],
        ['rpi3', 22224, false],
        ['rpi4', 22225, false],
        ['rpi9', null, false],
        ['zold', 22226, true],
      ],
    );
    assert.match(rows[1].error!, /22223 is not listening/);
    assert.match(rows[2].error!, /not rpi3's/);
    assert.match(rows[3].error!, /no SSH server answers/);
    assert.match(rows[4].error!, /not enrolled/);
    assert.equal(rows[5].in_inventory, false);
    assert.deepEqual(Object.keys(rows[0]).slice(0, 5), ['name', 'port', 'up', 'since', 'error'], '--json field order');
    assert.deepEqual(Object.keys(rows[4]).slice(0, 5), ['name', 'port', 'up', 'since', 'error']);
  });

  it('since: the age of the relay sshd session that holds the port', () => {
    assert.equal(rows[0].up_seconds, 3725);
    assert.equal(rows[0].since, '2026-01-01T10:57:55.000Z');
    assert.equal(rows[1].since, null);
    assert.deepEqual(rows[0].forwards, [{ name: 'web', relay_port: 22222, listening: true }]);
    assert.equal(humanDuration(3725), '1h 02m');
    assert.equal(humanDuration(42), '42s');
    assert.equal(humanDuration(90061), '1d 1h');
  });

  it('the device side: last message of the tunnel service, systemd noise skipped', () => {
    const log = (state: string, ...lines: string[]) => [`state=${state}`, ...lines].join('\n');
    assert.equal(
      deviceError(
        'relay-tunnel.service',
        log(
          'inactive',
          'Started relay-play reverse SSH tunnel.',
          'Stopping relay-play...',
          'Stopped relay-play reverse SSH tunnel.',
        ),
      ),
      'relay-tunnel.service is inactive',
    );
    assert.equal(
      deviceError(
        'relay-tunnel.service',
        log(
          'activating',
          'relay@198.18.0.10: Permission denied (publickey).',
          'relay-tunnel.service: Main process exited, code=exited, status=255/EXCEPTION',
          "relay-tunnel.service: Failed with result 'exit-code'.",
          'Scheduled restart job, restart counter is at 3.',
        ),
      ),
      'relay@198.18.0.10: Permission denied (publickey).',
    );
    assert.equal(
      deviceError('relay-tunnel.service', log('failed', 'Error: remote port forwarding failed for listen port 22221')),
      'relay-tunnel.service is failed; its last message: Error: remote port forwarding failed for listen port 22221',
    );
  });

  it('table: plain without colours, coloured on a terminal', () => {
    const plain = statusTable(rows, { color: false });
    assert.match(plain, /^DEVICE +PORT +TUNNEL +UP FOR +ERROR\n/);
    assert.match(plain, /^rpi1 +22221 \+22222 +up +1h 02m$/m);
    assert.match(plain, /^rpi2 +22223 +down +- +relay port 22223 is not listening/m);
    assert.match(plain, /^zold \(not in inventory\) +22226 +up/m);
    assert.match(plain, /4 of 6 down\n$/);
    assert.ok(!plain.includes('\x1b['));
    assert.ok(statusTable(rows, { color: true }).includes('\x1b[31mdown'));
  });
});

describe('day 2: NixOS configuration', () => {
  it('escapes Nix strings', () => {
    assert.equal(nixString('a "b" \\ ${c}\n'), '"a \\"b\\" \\\\ \\${c}\\n"');
    assert.equal(nixLines("x ''y'' ${z}", ''), "''\n  x '''y''' ''${z}\n''");
  });

  const facts = planFleet(emptyFleet(), {
    devices: [{ name: 'nix1', relayKey: KEY(7), forwards: [{ name: 'web', port: 80 }] }],
    clients: [],
    portBase: 22221,
  });
  const inv = prepared();
  const vars = (h: string) => inv.hosts.get(h)!.vars;

  it('relay: users.users.relay with nologin, the authorized keys with their options, the sshd Match block', async () => {
    const hostvars = Object.fromEntries([...inv.hosts].map(([n, h]) => [n, h.vars]));
    const plan = await planRaw(
      relay_fleet,
      {
        devices: ['nix1'],
        clients: ['client'],
        hostvars: {
          ...hostvars,
          nix1: { ...hostvars.nix1, forwards: [{ name: 'web', port: 80 }] },
          client: { jump_key: { public_key: KEY(9) } },
        },
        port_base: 22221,
        state_file: 's',
        host_key: 'k',
      },
      cannedCtx(`${KEY(3)}\n---relay-play---\n${serializeFleet(facts)}`, { host: 'server' }),
    );
    const nix = relayNix('server', { ...vars('server'), ...plan.facts!.server });
    assert.match(nix, /shell = "\$\{pkgs\.shadow\}\/bin\/nologin";/);
    assert.ok(
      nix.includes(
        `"restrict,port-forwarding,permitlisten=\\"localhost:22221\\",permitlisten=\\"localhost:22222\\",permitopen=\\"localhost:1\\" ${KEY(7)} relay-play device nix1"`,
      ),
      nix,
    );
    assert.ok(
      nix.includes(
        `permitopen=\\"localhost:22221\\",permitopen=\\"localhost:22222\\" ${KEY(9)} relay-play client client"`,
      ),
      nix,
    );
    assert.match(nix, /Match User relay\n {8}PasswordAuthentication no\n/);
    assert.match(nix, /PermitListen localhost:22221 localhost:22222\n/);
    assert.match(nix, /ForceCommand \$\{pkgs\.coreutils\}\/bin\/false/);
    parsesAsNix(nix);
  });

  it('relay: the stale-tunnel reaper as systemd.services.relay-play-reaper, the same script, on the port sshd listens on', () => {
    const script = String(
      renderHandlebars(
        readFileSync(join(bundledRolesDir(), 'relay-user/templates/reap-stale-tunnels.sh.hbs'), 'utf8'),
        { ...vars('server'), relay_ssh_port: 2222, relay_sshd_port: 22 },
      ),
    );
    const nix = relayNix('server', {
      ...vars('server'),
      relay_device_keys: [],
      relay_client_keys: [],
      relay_permit: 'localhost:1',
      relay_max_startups: '10:30:100',
      relay_ssh_port: 2222,
      relay_sshd_port: 22,
    });
    assert.match(nix, /\n {2}systemd\.services\.relay-play-reaper = \{\n/);
    assert.match(nix, /after = \[ "sshd\.service" \];/);
    assert.match(nix, /wantedBy = \[ "multi-user\.target" \];/);
    assert.match(
      nix,
      /path = \[ pkgs\.iproute2 pkgs\.gawk pkgs\.gnugrep pkgs\.coreutils pkgs\.procps pkgs\.util-linux \];/,
    );
    assert.match(
      nix,
      /Restart = "always";\n {6}RestartSec = 5;\n {6}TimeoutStopSec = 5;\n {6}ProtectSystem = "strict";/,
    );
    // The script's every line, in a Nix '' string (indented; ${ would be escaped, there is none).
    const body = /ExecStart = pkgs\.writeShellScript "relay-play-reap-stale-tunnels" ''\n([\s\S]*?)\n {6}'';/.exec(
      nix,
    )?.[1];
    assert.ok(body, nix);
    const unindented = body
      .split('\n')
      .map((l) => l.replace(/^ {8}/, ''))
      .join('\n');
    const expected = script
      .replace(/^#!.*\n/, '')
      .replace(/^# Managed by relay-play.*\n/m, '')
      .trimEnd();
    assert.equal(unindented, expected);
    assert.match(unindented, /sport = :22 \)/, 'the port sshd listens on, not the one devices dial');
    parsesAsNix(nix);
  });

  it('device: systemd.services.relay-tunnel with the same ExecStart and restart settings', async () => {
    const hostvars = Object.fromEntries([...inv.hosts].map(([n, h]) => [n, h.vars]));
    const plan = await planRaw(
      relay_fleet,
      { devices: ['nix1'], clients: [], hostvars, port_base: 22221, state_file: 's', host_key: 'k' },
      cannedCtx(`${KEY(3)}\n---relay-play---\n`, { host: 'server' }),
    );
    const nix = deviceNix(
      'nix1',
      { ...vars('nix1'), ...plan.facts!.nix1 },
      { missingKey: false, missingHostKey: true },
    );
    assert.match(nix, /systemd\.services\.relay-tunnel = \{/);
    assert.match(
      nix,
      /ExecStart = "\$\{pkgs\.openssh\}\/bin\/ssh -F none -NT -i \/etc\/relay-play\/id_relay .* -p 22 -R localhost:22221:localhost:22 relay@198\.18\.0\.10";/,
    );
    assert.match(nix, /Restart = "always";\n {6}RestartSec = 5;/);
    assert.match(nix, /startLimitIntervalSec = 0;/);
    assert.match(nix, /User = "relay-tunnel";/);
    assert.ok(nix.includes(`environment.etc."relay-play/known_hosts".text = "relay-play-relay ${KEY(3)}\\n";`));
    assert.match(nix, /# .*ssh_host_key:/, 'says how to get the keys into the inventory');
    parsesAsNix(nix);
  });
});

const nixInstantiate = spawnSync('nix-instantiate', ['--version'], { encoding: 'utf8' }).status === 0;
function parsesAsNix(text: string): void {
  if (!nixInstantiate) return; // checked in test/day2.test.ts too; apt-get install nix-bin to check here
  const r = spawnSync('nix-instantiate', ['--parse', '-'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `nix-instantiate --parse: ${r.stderr}\n${text}`);
}
