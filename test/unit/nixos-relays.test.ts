// NixOS hosts among several relays (issue 26): a NixOS device gets a tunnel service per relay, named and
// pinned as a Debian device's units; a NixOS relay gets the keys and Match block of its own devices, each
// on the port it has on every relay; a NixOS client gets the same fallback ssh config as any client.
// The Nix is parsed by nix-instantiate when installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseInventory, selectHosts, type Inventory } from '../../src/engine/inventory/index.js';
import { loadPlaybook } from '../../src/engine/playbook/load.js';
import { renderHandlebars } from '../../src/engine/template/handlebars.js';
import { renderString } from '../../src/engine/template/jinja.js';
import { bundledPlaybook, bundledRolesDir, relayApp } from '../../src/relay/app.js';
import { hostNix } from '../../src/relay/commands/nixos.js';
import { emptyFleet, serializeFleet, type FleetState } from '../../src/relay/fleet.js';
import { NIXOS_GROUP, prepareRelayInventory } from '../../src/relay/inventory.js';
import { relay_fleet } from '../../src/relay/modules/relay_fleet.js';
import { deviceNix, relayNix } from '../../src/relay/nixos.js';
import { cannedCtx, planRaw } from './modules/fake-host.js';
import { fakeKey } from './keys.js';

const KEY = fakeKey;
const re = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));

// rb runs NixOS, and so do the device nix1 and the client laptop.
const INVENTORY = `all:
  vars: {ansible_user: admin}
  children:
    relay:
      hosts:
        ra: {ansible_host: 198.18.0.10}
        rb: {ansible_host: 198.18.0.20, relay_ssh_port: 2222, os: nixos}
    devices:
      hosts:
        rpi1: {ansible_host: 198.18.0.11}
        nix1:
          ansible_host: 198.18.0.13
          os: nixos
          relay_public_key: "${KEY(7)} relay-access nix1"
          ssh_host_key: "${KEY(8)} root@nix1"
          forwards: [{name: web, port: 8080}]
    clients:
      hosts:
        client: {ansible_host: 198.18.0.14}
        laptop: {ansible_host: 198.18.0.15, os: nixos}
`;
const prepared = (text = INVENTORY): Inventory => {
  const inv = parseInventory(text, 'inv.yaml');
  prepareRelayInventory(inv);
  return inv;
};
const HOST_KEYS: Record<string, number> = { ra: 10, rb: 20 };

/** relay_fleet as it runs on each relay in one apply: every relay's copy read first, then planned on each. */
async function fleetFacts(inv: Inventory, copies: Record<string, FleetState> = {}) {
  const relays = inv.groups.get('relay')!;
  const hostvars = Object.fromEntries([...inv.hosts].map(([n, h]) => [n, { ...h.vars }]));
  hostvars.rpi1.relay_key = { public_key: KEY(1) };
  hostvars.rpi1.device_host_key = { content: Buffer.from(`${KEY(5)} root@rpi1\n`).toString('base64') };
  for (const c of inv.groups.get('clients')!) hostvars[c].jump_key = { public_key: KEY(c === 'client' ? 9 : 6) };
  for (const r of relays)
    hostvars[r].relay_copy = { state: serializeFleet(copies[r] ?? emptyFleet()), host_key: KEY(HOST_KEYS[r]) };
  const facts: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const relay of relays) {
    const plan = await planRaw(
      relay_fleet,
      {
        devices: inv.groups.get('devices')!,
        clients: inv.groups.get('clients')!,
        hostvars,
        port_base: 22221,
        state_file: '/var/lib/relay-play/fleet.json',
        host_key: '/etc/ssh/ssh_host_ed25519_key.pub',
        relays,
        relays_per_device: (hostvars[relay].relays_per_device as number | undefined) ?? '',
      },
      cannedCtx(
        `${KEY(HOST_KEYS[relay])} root@${relay}\n---relay-play---\n${serializeFleet(copies[relay] ?? emptyFleet())}`,
        { host: relay },
      ),
    );
    assert.equal(plan.failed, undefined, plan.failed);
    facts[relay] = plan.facts!;
  }
  return { hostvars, facts };
}
/** A host's vars as apply's nixosSections sees them: the inventory's, with the relays' facts over them. */
const varsOf = (inv: Inventory, f: Awaited<ReturnType<typeof fleetFacts>>, host: string, on: string) => ({
  ...inv.hosts.get(host)!.vars,
  ...f.facts[on][host],
});

const nixInstantiate = spawnSync('nix-instantiate', ['--version'], { encoding: 'utf8' }).status === 0;
function parsesAsNix(text: string): void {
  if (!nixInstantiate) return; // checked in test/day2.test.ts too; apt-get install nix-bin to check here
  const r = spawnSync('nix-instantiate', ['--parse', '-'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `nix-instantiate --parse: ${r.stderr}\n${text}`);
}
/** The systemd services a Nix text defines. */
const services = (nix: string) => (nix.match(/^ {2}systemd\.services\.\S+ = \{$/gm) ?? []).length;
const tpl = (role: string, file: string) => readFileSync(join(bundledRolesDir(), role, 'templates', file), 'utf8');
/** A Nix ExecStart as the unit line it stands for (the store path of ssh is /usr/bin/ssh on Debian). */
const execStarts = (nix: string) =>
  [...nix.matchAll(/ExecStart = "\$\{pkgs\.openssh\}\/bin\/ssh (.*)";/g)].map((m) => `/usr/bin/ssh ${m[1]}`);

describe('NixOS with two relays', () => {
  const inv = prepared();

  it('a NixOS device: a service per relay, named, pinned and run as on a Debian device', async () => {
    const f = await fleetFacts(inv);
    const port = f.facts.ra.nix1.tunnel_port as number;
    const fw = (f.facts.ra.nix1.tunnel_forwards as { relay_port: number }[])[0].relay_port;
    const nix = deviceNix('nix1', varsOf(inv, f, 'nix1', 'ra'));
    assert.match(nix, /\n {2}systemd\.services\.relay-tunnel = \{\n/);
    assert.match(nix, /\n {2}systemd\.services\.relay-tunnel-rb = \{\n/);
    assert.equal(services(nix), 2, nix);
    assert.match(nix, /^# A tunnel to each of its relays \(ra, rb\), on the same port/m);
    // Each relay's own host key, pinned under the alias every unit checks.
    assert.ok(nix.includes(`environment.etc."relay-play/known_hosts".text = "relay-play-relay ${KEY(10)}\\n";`), nix);
    assert.ok(
      nix.includes(`environment.etc."relay-play/known_hosts-rb".text = "relay-play-relay ${KEY(20)}\\n";`),
      nix,
    );
    const [toA, toB] = execStarts(nix);
    assert.match(toA, / -o UserKnownHostsFile=\/etc\/relay-play\/known_hosts -o GlobalKnownHostsFile/);
    assert.match(toB, / -o UserKnownHostsFile=\/etc\/relay-play\/known_hosts-rb -o GlobalKnownHostsFile/);
    for (const e of [toA, toB]) assert.match(e, / -o HostKeyAlias=relay-play-relay /);
    // The same port (and forward) on both relays, each at its own address and port.
    assert.match(
      toA,
      re(` -p 22 -R localhost:${port}:localhost:22 -R localhost:${fw}:localhost:8080 relay@198.18.0.10`),
    );
    assert.match(
      toB,
      re(` -p 2222 -R localhost:${port}:localhost:22 -R localhost:${fw}:localhost:8080 relay@198.18.0.20`),
    );
    // Exactly the ExecStart a Debian device gets from the same facts (tasks/main.yaml's loop over tunnel_relays).
    const debian = (f.facts.ra.nix1.tunnel_relays as Record<string, unknown>[]).map((t) => {
      const unit = String(
        renderHandlebars(tpl('reverse-tunnel-service', 'relay-tunnel.service.hbs'), {
          ...varsOf(inv, f, 'nix1', 'ra'),
          relay_address: t.address,
          relay_ssh_port: t.ssh_port,
          tunnel_suffix: t.suffix,
        }),
      );
      return /^ExecStart=(.*)$/m.exec(unit)![1];
    });
    assert.deepEqual([toA, toB], debian);
    assert.deepEqual(
      (f.facts.ra.nix1.tunnel_relays as { unit: string }[]).map((t) => t.unit),
      ['relay-tunnel.service', 'relay-tunnel-rb.service'],
    );
    // The tunnel user once, not per relay.
    assert.equal(nix.match(/users\.users\.relay-tunnel = \{/g)!.length, 1);
    // Each relay plans the same device facts, so apply prints the same Nix whichever set them last.
    assert.equal(deviceNix('nix1', varsOf(inv, f, 'nix1', 'rb')), nix);
    assert.equal(hostNix(inv, 'nix1', varsOf(inv, f, 'nix1', 'ra')), nix);
    parsesAsNix(nix);
  });

  it('a NixOS relay among two: the keys and Match block of its devices, each on its port on every relay', async () => {
    const f = await fleetFacts(inv);
    const port = (d: string) => f.facts.ra[d].tunnel_port as number;
    const fw = (f.facts.ra.nix1.tunnel_forwards as { relay_port: number }[])[0].relay_port;
    assert.equal(f.facts.rb.nix1.tunnel_port, port('nix1'));
    // The second relay is a relay too (hostNix once knew only the first).
    const nix = hostNix(inv, 'rb', varsOf(inv, f, 'rb', 'rb'))!;
    assert.ok(nix, 'rb has Nix');
    assert.match(nix, /^# relay-play: NixOS configuration of the relay rb /m);
    for (const [d, key, extra] of [
      ['nix1', KEY(7), `,permitlisten=\\"localhost:${fw}\\"`],
      ['rpi1', KEY(1), ''],
    ] as const)
      assert.ok(
        nix.includes(
          `"restrict,port-forwarding,permitlisten=\\"localhost:${port(d)}\\"${extra},permitopen=\\"localhost:1\\" ${key} relay-play device ${d}"`,
        ),
        `${d}'s key on rb\n${nix}`,
      );
    const ports = [port('nix1'), fw, port('rpi1')].sort((a, b) => a - b).map((p) => `localhost:${p}`);
    assert.match(nix, re(`PermitListen ${ports.join(' ')}\n`));
    assert.match(nix, re(`PermitOpen ${ports.join(' ')}\n`));
    for (const c of ['client', 'laptop']) assert.match(nix, re(`relay-play client ${c}"`));
    // What the Debian relay ra writes to its authorized_keys, line for line.
    const keys = (relay: string) =>
      String(renderHandlebars(tpl('authorized-key', 'authorized_keys.hbs'), varsOf(inv, f, relay, relay)))
        .split('\n')
        .filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(keys('rb'), keys('ra'));
    for (const line of keys('ra')) assert.ok(nix.includes(JSON.stringify(line)), line);
    parsesAsNix(nix);
    parsesAsNix(hostNix(inv, 'ra', varsOf(inv, f, 'ra', 'ra'))!);
  });

  it('relays_per_device 1: each NixOS relay lets in its own devices only, a NixOS device has one service', async () => {
    // Device names whose one relay is ra, and rb: found, not assumed (the spread is a hash).
    const many = prepared(
      INVENTORY.replace('ansible_user: admin}', 'ansible_user: admin, relays_per_device: 1}').replace(
        'ra: {ansible_host: 198.18.0.10}',
        'ra: {ansible_host: 198.18.0.10, os: nixos}',
      ),
    );
    const f = await fleetFacts(many);
    const relayOf = (d: string) => (f.facts.ra[d].tunnel_relays as { name: string }[]).map((t) => t.name);
    assert.equal(relayOf('nix1').length, 1);
    const nix = deviceNix('nix1', varsOf(many, f, 'nix1', 'ra'));
    assert.equal(services(nix), 1, nix);
    assert.match(nix, /\n {2}systemd\.services\.relay-tunnel = \{\n/, 'its one tunnel is relay-tunnel.service');
    assert.ok(!/# A tunnel to each/.test(nix));
    assert.match(execStarts(nix)[0], / -o UserKnownHostsFile=\/etc\/relay-play\/known_hosts -o /);
    const mine = relayOf('nix1')[0];
    assert.ok(nix.includes(`"relay-play-relay ${KEY(HOST_KEYS[mine])}\\n"`), nix);
    for (const relay of ['ra', 'rb']) {
      const relayText = relayNix(relay, varsOf(many, f, relay, relay));
      for (const d of ['nix1', 'rpi1'])
        assert.equal(
          relayText.includes(`relay-play device ${d}"`),
          relayOf(d).includes(relay),
          `${relay} lets in ${d} only if it is one of its relays`,
        );
      parsesAsNix(relayText);
    }
    parsesAsNix(nix);
  });

  it('a relay whose host key relay-play has never read: that tunnel is left out, said so, the rest stands', async () => {
    const f = await fleetFacts(inv);
    const vars = varsOf(inv, f, 'nix1', 'ra');
    vars.tunnel_relays = (vars.tunnel_relays as Record<string, unknown>[]).map(({ host_key, ...t }) =>
      t.name === 'rb' ? t : { ...t, host_key },
    );
    const nix = deviceNix('nix1', vars);
    assert.equal(services(nix), 1, nix);
    assert.match(nix, /# No tunnel to the relay rb yet: relay-play has not read its host key/);
    assert.ok(!nix.includes('known_hosts-rb'));
    parsesAsNix(nix);
  });

  it('one relay: the same service and pin names as before several relays, but relay-tunnel, as on Debian', async () => {
    const one = prepared(INVENTORY.replace(/ {8}rb: .*\n/, ''));
    const f = await fleetFacts(one);
    const nix = deviceNix('nix1', varsOf(one, f, 'nix1', 'ra'));
    assert.equal(services(nix), 1, nix);
    assert.match(nix, /\n {2}systemd\.services\.relay-tunnel = \{\n/);
    assert.ok(nix.includes(`environment.etc."relay-play/known_hosts".text = "relay-play-relay ${KEY(10)}\\n";`));
    // Facts without tunnel_relays (as a run's before several relays): the one relay's tunnel all the same.
    const { tunnel_relays: _gone, ...older } = varsOf(one, f, 'nix1', 'ra');
    assert.equal(deviceNix('nix1', older), nix);
    parsesAsNix(nix);
  });

  it('a NixOS client gets the fallback over both relays, with every relay and device key pinned', async () => {
    assert.ok(inv.groups.get(NIXOS_GROUP)!.includes('laptop'));
    const pb = loadPlaybook(bundledPlaybook('site'), relayApp);
    const clientPlays = pb.plays.filter((p) => selectHosts(inv, p.hosts).includes('laptop'));
    assert.deepEqual(
      clientPlays.map((p) => p.name),
      ['enroll clients (jump key)', 'clients'],
      'its own ~/.ssh files are written as on any client',
    );
    const f = await fleetFacts(inv);
    const task = pb.plays.flatMap((p) => p.tasks).find((t) => t.module === 'blockinfile')!;
    const cfg = String(
      renderString((task.args as { block: string }).block, {
        ...varsOf(inv, f, 'laptop', 'rb'),
        client_home: '/home/admin',
      }),
    );
    assert.match(cfg, /^Host relay-play-ra\n {4}HostName 198\.18\.0\.10\n {4}Port 22\n/m);
    assert.match(cfg, /^Host relay-play-rb\n {4}HostName 198\.18\.0\.20\n {4}Port 2222\n/m);
    assert.match(
      cfg,
      re(
        `Host nix1\n    HostName localhost\n    Port ${f.facts.rb.nix1.tunnel_port as number}\n    User admin\n    ProxyCommand sh -c 'ssh -o ConnectTimeout=2 -W %h:%p relay-play-ra 2>/dev/null || exec ssh -o ConnectTimeout=10 -W %h:%p relay-play-rb'\n`,
      ),
    );
    const known = String(renderHandlebars(tpl('client-ssh-config', 'known_hosts.hbs'), varsOf(inv, f, 'laptop', 'rb')));
    for (const line of [`relay-play-ra ${KEY(10)}`, `relay-play-rb ${KEY(20)}`, `nix1 ${KEY(8)}`, `rpi1 ${KEY(5)}`])
      assert.ok(known.split('\n').includes(line), `${line}\n${known}`);
    assert.deepEqual(f.facts.ra.laptop, f.facts.rb.laptop, 'the same whichever relay set them');
  });
});
