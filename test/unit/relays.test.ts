// Several relays: which relays a device tunnels to, merging the relays' copies of the fleet state, and what
// relay_fleet hands devices and clients (their tunnel units, the client's fallback over relays).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/engine/util/errors.js';
import { parseInventory, type Inventory } from '../../src/engine/inventory/index.js';
import { loadPlaybook } from '../../src/engine/playbook/load.js';
import { renderString } from '../../src/engine/template/jinja.js';
import { renderHandlebars } from '../../src/engine/template/handlebars.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundledPlaybook, bundledRolesDir, relayApp } from '../../src/relay/app.js';
import { emptyFleet, parseFleet, planFleetChanges, serializeFleet, type FleetState } from '../../src/relay/fleet.js';
import { mergeFleets } from '../../src/relay/fleet-merge.js';
import { prepareRelayInventory } from '../../src/relay/inventory.js';
import { relay_fleet } from '../../src/relay/modules/relay_fleet.js';
import { relaysOf, tunnelUnitName } from '../../src/relay/relays.js';
import { cannedCtx, planRaw } from './modules/fake-host.js';
import { fakeKey } from './keys.js';

const KEY = fakeKey;

describe('relays: which relays a device tunnels to', () => {
  const devices = Array.from({ length: 400 }, (_, i) => `dev${i}`);
  it('every relay by default, in the inventory order', () => {
    assert.deepEqual(relaysOf('rpi1', ['b', 'a', 'c']), ['b', 'a', 'c']);
    assert.deepEqual(relaysOf('rpi1', ['b', 'a'], 5), ['b', 'a']);
  });
  it('K of N spread evenly, and stable', () => {
    const count = new Map<string, number>();
    for (const d of devices) {
      const rs = relaysOf(d, ['r1', 'r2', 'r3', 'r4'], 2);
      assert.equal(rs.length, 2);
      assert.deepEqual(rs, relaysOf(d, ['r1', 'r2', 'r3', 'r4'], 2), 'the same answer every time');
      for (const r of rs) count.set(r, (count.get(r) ?? 0) + 1);
    }
    // 800 tunnels over 4 relays: ~200 each.
    for (const [r, n] of count) assert.ok(n > 150 && n < 250, `${r}: ${n}`);
  });
  it('adding a relay moves only devices that now rank it in their top K', () => {
    let moved = 0;
    for (const d of devices) {
      const before = relaysOf(d, ['r1', 'r2', 'r3'], 1);
      const after = relaysOf(d, ['r1', 'r2', 'r3', 'r4'], 1);
      if (before[0] !== after[0]) {
        moved++;
        assert.equal(after[0], 'r4', `${d} moved to the new relay only`);
      }
    }
    // About a quarter move (to the new relay); a modulo spread would move three quarters.
    assert.ok(moved > 60 && moved < 140, `${moved} of 400 moved`);
  });
  it('units: the first relay is relay-tunnel.service, the others carry their name', () => {
    assert.equal(tunnelUnitName('a', undefined), 'relay-tunnel.service');
    assert.equal(tunnelUnitName('a', 'a'), 'relay-tunnel.service');
    assert.equal(tunnelUnitName('b', 'a'), 'relay-tunnel-b.service');
  });
});

const state = (s: Partial<FleetState>): FleetState => ({ ...emptyFleet(), ...s });
const rec = (port: number, key = 1) => ({ port, relay_key: KEY(key) });

describe('relays: merging the copies of the fleet state', () => {
  it('the newest copy holding a device wins; ties go to the first copy', () => {
    const a = state({ serial: 3, devices: { rpi1: rec(22221), rpi2: rec(22222) } });
    const b = state({ serial: 4, devices: { rpi1: rec(22221, 9), rpi3: rec(22223) } });
    const m = mergeFleets([
      { relay: 'a', state: a },
      { relay: 'b', state: b },
    ]);
    assert.equal(m.serial, 4);
    assert.equal(m.devices.rpi1.relay_key, KEY(9), 'b is newer');
    assert.deepEqual(Object.keys(m.devices), ['rpi1', 'rpi2', 'rpi3']);
    const tie = mergeFleets([
      { relay: 'a', state: { ...a, serial: 4 } },
      { relay: 'b', state: b },
    ]);
    assert.equal(tie.devices.rpi1.relay_key, KEY(1), 'a tie: the first copy');
  });

  it('a removal outlives older copies; a device added again later comes back', () => {
    // Removed in a run that reached only b (serial 5); a still holds it at serial 4.
    const a = state({ serial: 4, devices: { rpi1: rec(22221), rpi2: rec(22222) } });
    const b = state({ serial: 5, devices: { rpi1: rec(22221) }, removed: { rpi2: 5 } });
    const m = mergeFleets([
      { relay: 'a', state: a },
      { relay: 'b', state: b },
    ]);
    assert.deepEqual(Object.keys(m.devices), ['rpi1']);
    assert.deepEqual(m.removed, { rpi2: 5 });
    const again = state({ serial: 6, devices: { rpi1: rec(22221), rpi2: rec(22224) } });
    const m2 = mergeFleets([
      { relay: 'a', state: b },
      { relay: 'b', state: again },
    ]);
    assert.equal(m2.devices.rpi2.port, 22224);
    assert.equal(m2.removed, undefined);
  });

  it('a run that saw only relay b, then one that sees both: b wins, no port given twice, a is brought up to date', () => {
    const input = (names: string[]) => ({
      devices: names.map((name, i) => ({ name, relayKey: KEY(i + 1) })),
      clients: [],
      portBase: 22221,
      relays: ['a', 'b'],
    });
    const first = planFleetChanges(emptyFleet(), input(['rpi1', 'rpi2'])).state;
    assert.equal(first.serial, 1);
    // a is down: the run adds rpi3 on b only.
    const onB = planFleetChanges(mergeFleets([{ relay: 'b', state: first }]), input(['rpi1', 'rpi2', 'rpi3'])).state;
    assert.equal(onB.serial, 2);
    // Both again: the merged state is b's; each relay plans the same next state.
    const merged = mergeFleets([
      { relay: 'a', state: first },
      { relay: 'b', state: onB },
    ]);
    const nextA = planFleetChanges(merged, { ...input(['rpi1', 'rpi2', 'rpi3']), here: first, hereRelay: 'a' });
    const nextB = planFleetChanges(merged, { ...input(['rpi1', 'rpi2', 'rpi3']), here: onB, hereRelay: 'b' });
    assert.equal(serializeFleet(nextA.state), serializeFleet(onB), 'nothing new: a gets b copy, serial and all');
    assert.equal(serializeFleet(nextB.state), serializeFleet(onB));
    const ports = Object.values(nextA.state.devices).map((d) => d.port);
    assert.equal(new Set(ports).size, 3);
    assert.deepEqual(nextA.droppedPorts, [], 'no session ends on a');
  });

  it('split runs that gave one port to two devices: one keeps it, the other moves', () => {
    const base = state({ serial: 1, devices: { rpi1: rec(22221) } });
    const a = state({ serial: 2, devices: { ...base.devices, rpi2: rec(22222, 2) } });
    const b = state({ serial: 2, devices: { ...base.devices, rpi3: rec(22222, 3) } });
    const merged = mergeFleets([
      { relay: 'a', state: a },
      { relay: 'b', state: b },
    ]);
    const plan = planFleetChanges(merged, {
      devices: ['rpi1', 'rpi2', 'rpi3'].map((name, i) => ({ name, relayKey: KEY(i + 1) })),
      clients: [],
      portBase: 22221,
      relays: ['a', 'b'],
      here: a,
      hereRelay: 'a',
    });
    const ports = Object.values(plan.state.devices).map((d) => d.port);
    assert.equal(new Set(ports).size, 3, JSON.stringify(plan.state.devices));
    assert.equal(plan.state.devices.rpi2.port, 22222, 'first by name keeps it');
    assert.equal(plan.state.serial, 3);
  });

  it('a device that leaves a relay (relays_per_device) has its sessions there ended', () => {
    const input = (relays: string[]) => ({
      devices: ['rpi1'].map((name) => ({ name, relayKey: KEY(1) })),
      clients: [],
      portBase: 22221,
      relays,
      perDevice: 1,
    });
    const two = planFleetChanges(emptyFleet(), input(['a', 'b'])).state;
    const held = two.devices.rpi1.relays![0];
    const other = held === 'a' ? 'b' : 'a';
    // A third relay that rpi1 ranks first takes it from its relay; find one.
    const third = ['c', 'd', 'e', 'f', 'g', 'h'].find((r) => relaysOf('rpi1', [held, other, r], 1)[0] === r)!;
    const next = planFleetChanges(two, { ...input([held, other, third]), here: two, hereRelay: held });
    assert.deepEqual(next.state.devices.rpi1.relays, [third]);
    assert.deepEqual(next.droppedPorts, [two.devices.rpi1.port]);
    assert.equal(next.state.devices.rpi1.first_relay, held, 'its relay-tunnel.service keeps its name');
  });

  it('parse refuses relay names that cannot name a unit', () => {
    assert.throws(
      () => parseFleet(JSON.stringify({ version: 1, devices: { d: { port: 22221, relays: ['a;rm'] } }, clients: {} })),
      /bad relay name/,
    );
  });
});

const INVENTORY = `all:
  vars: {ansible_user: admin}
  children:
    relay:
      hosts:
        ra: {ansible_host: 198.18.0.10}
        rb: {ansible_host: 198.18.0.20, relay_ssh_port: 2222}
    devices:
      hosts:
        rpi1: {ansible_host: 198.18.0.11}
    clients: {hosts: {client: {ansible_host: 198.18.0.14}}}
`;
const prepared = (text = INVENTORY): Inventory => {
  const inv = parseInventory(text, 'inv.yaml');
  prepareRelayInventory(inv);
  return inv;
};

describe('relays: inventory', () => {
  it('several relays, each with its own address and port', () => {
    const inv = prepared();
    assert.equal(inv.hosts.get('rb')!.vars.relay_ssh_port, 2222);
    assert.equal(inv.hosts.get('rpi1')!.vars.relay_host, 'ra');
  });
  it('refuses two relays at one address, and a bad relays_per_device', () => {
    const refused = (text: string, re: RegExp) =>
      assert.throws(
        () => prepared(text),
        (e: unknown) => e instanceof InputError && re.test(e.message),
      );
    refused(INVENTORY.replace('198.18.0.20, relay_ssh_port: 2222', '198.18.0.10'), /both reached at 198\.18\.0\.10/);
    refused(INVENTORY.replace('ansible_user: admin', 'ansible_user: admin, relays_per_device: 0'), /relays_per_device/);
    refused(INVENTORY.replace('rb: {', '_rb: {'), /cannot name a tunnel unit/);
  });
});

describe('relays: relay_fleet with two relays', () => {
  const inv = prepared();
  const hostvars = Object.fromEntries([...inv.hosts].map(([n, h]) => [n, { ...h.vars }]));
  hostvars.rpi1.relay_key = { public_key: KEY(1) };
  hostvars.rpi1.device_host_key = { content: Buffer.from(`${KEY(5)} root@rpi1\n`).toString('base64') };
  hostvars.client.jump_key = { public_key: KEY(9) };
  // rb's copy, left by relay_fleet_read: newer, and holding rpi1 at a port ra never saw.
  const onB = state({ serial: 7, devices: { rpi1: { ...rec(22230), relays: ['ra', 'rb'], first_relay: 'ra' } } });
  hostvars.rb.relay_copy = { state: serializeFleet(onB), host_key: KEY(20) };
  const args = {
    devices: ['rpi1'],
    clients: ['client'],
    hostvars,
    port_base: 22221,
    state_file: '/var/lib/relay-play/fleet.json',
    host_key: '/etc/ssh/ssh_host_ed25519_key.pub',
    relays: ['ra', 'rb'],
  };
  const onRelay = (host: string, key: number, copy: FleetState) =>
    planRaw(
      relay_fleet,
      args,
      cannedCtx(`${KEY(key)} root@${host}\n---relay-play---\n${serializeFleet(copy)}`, { host }),
    );

  it("merges rb's copy into ra's and hands the device a tunnel per relay", async () => {
    const plan = await onRelay('ra', 10, emptyFleet());
    assert.equal(plan.failed, undefined, plan.failed);
    const tunnels = plan.facts!.rpi1.tunnel_relays as Record<string, unknown>[];
    assert.deepEqual(
      tunnels.map((t) => [t.name, t.address, t.ssh_port, t.unit, t.suffix, t.host_key]),
      [
        ['ra', '198.18.0.10', 22, 'relay-tunnel.service', '', KEY(10)],
        ['rb', '198.18.0.20', 2222, 'relay-tunnel-rb.service', '-rb', KEY(20)],
      ],
    );
    assert.equal(plan.facts!.rpi1.tunnel_port, 22230, "rb's newer record kept its port");
    assert.ok(plan.changed, 'ra is brought up to date');
    const written = parseFleet(plan.diff![0].after);
    assert.deepEqual(written.relays, { ra: { host_key: KEY(10) }, rb: { host_key: KEY(20) } });
  });

  it('each relay hands out the same device and client facts', async () => {
    const a = await onRelay('ra', 10, emptyFleet());
    hostvars.ra.relay_copy = { state: '', host_key: KEY(10) };
    const b = await onRelay('rb', 20, onB);
    assert.deepEqual(a.facts!.rpi1, b.facts!.rpi1);
    assert.deepEqual(a.facts!.client, b.facts!.client);
    delete hostvars.ra.relay_copy;
  });

  it('the tunnel unit for rb and the client config falling back over both relays', async () => {
    const f = (await onRelay('ra', 10, emptyFleet())).facts!;
    const tpl = readFileSync(
      join(bundledRolesDir(), 'reverse-tunnel-service', 'templates', 'relay-tunnel.service.hbs'),
      'utf8',
    );
    const rb = (f.rpi1.tunnel_relays as Record<string, unknown>[])[1];
    const unit = String(
      renderHandlebars(tpl, {
        ...hostvars.rpi1,
        ...f.rpi1,
        relay_address: rb.address,
        relay_ssh_port: rb.ssh_port,
        tunnel_suffix: rb.suffix,
      }),
    );
    assert.match(unit, /UserKnownHostsFile=\/etc\/relay-play\/known_hosts-rb /);
    assert.match(unit, / -p 2222 -R localhost:22230:localhost:22 relay@198\.18\.0\.20$/m);
    const pb = loadPlaybook(bundledPlaybook('site'), relayApp);
    const task = pb.plays.flatMap((p) => p.tasks).find((t) => t.module === 'blockinfile')!;
    const block = (task.args as { block: string }).block;
    const cfg = String(renderString(block, { ...hostvars.client, ...f.client, client_home: '/home/admin' }));
    assert.match(cfg, /^Host relay-play-rb\n {4}HostName 198\.18\.0\.20\n {4}Port 2222\n/m);
    assert.match(
      cfg,
      /^Host rpi1\n {4}HostName localhost\n {4}Port 22230\n {4}User admin\n {4}ProxyCommand sh -c 'ssh -o ConnectTimeout=2 -W %h:%p relay-play-ra 2>\/dev\/null \|\| exec ssh -o ConnectTimeout=10 -W %h:%p relay-play-rb'\n/m,
    );
    const known = String(
      renderHandlebars(
        readFileSync(join(bundledRolesDir(), 'client-ssh-config', 'templates', 'known_hosts.hbs'), 'utf8'),
        f.client,
      ),
    );
    assert.match(known, new RegExp(`^relay-play-ra ${KEY(10).replace(/[+/]/g, '\\$&')}$`, 'm'));
    assert.match(known, new RegExp(`^relay-play-rb ${KEY(20).replace(/[+/]/g, '\\$&')}$`, 'm'));
  });
});
