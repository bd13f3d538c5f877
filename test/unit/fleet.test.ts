// Port allocation and key bookkeeping of the fleet state kept on the relay.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bundledRolesDir } from '../../src/relay/app.js';
import { renderHandlebars } from '../../src/engine/template/handlebars.js';
import {
  emptyFleet,
  maxStartups,
  planFleet,
  planFleetChanges,
  parseFleet,
  relayTemplateFacts,
  serializeFleet,
  type FleetInput,
} from '../../src/relay/fleet.js';
import { fakeKey } from './keys.js';

const KEY = fakeKey;
const input = (devices: FleetInput['devices'], clients: FleetInput['clients'] = []): FleetInput => ({
  devices,
  clients,
  portBase: 22221,
});

describe('planFleet', () => {
  it('allocates from the base in name order, whatever the inventory order', () => {
    const a = planFleet(emptyFleet(), input([{ name: 'rpi2' }, { name: 'rpi1' }, { name: 'laptop' }]));
    assert.deepEqual(Object.fromEntries(Object.entries(a.devices).map(([n, d]) => [n, d.port])), {
      laptop: 22221,
      rpi1: 22222,
      rpi2: 22223,
    });
    const b = planFleet(emptyFleet(), input([{ name: 'laptop' }, { name: 'rpi1' }, { name: 'rpi2' }]));
    assert.equal(serializeFleet(a), serializeFleet(b));
  });

  it('keeps recorded ports, and new devices take the lowest free one', () => {
    const old = planFleet(emptyFleet(), input([{ name: 'rpi1' }, { name: 'rpi3' }]));
    const next = planFleet(old, input([{ name: 'rpi3' }, { name: 'rpi1' }, { name: 'aaa' }]));
    assert.equal(next.devices.rpi1.port, 22221);
    assert.equal(next.devices.rpi3.port, 22222);
    assert.equal(next.devices.aaa.port, 22223, 'a new device never takes a recorded port, even if it sorts first');
  });

  it('an explicit tunnel_port wins over a recorded one, and the displaced device moves', () => {
    const old = planFleet(emptyFleet(), input([{ name: 'rpi1' }, { name: 'rpi2' }]));
    const next = planFleet(old, input([{ name: 'rpi1' }, { name: 'rpi2', explicitPort: 22221 }]));
    assert.equal(next.devices.rpi2.port, 22221);
    assert.notEqual(next.devices.rpi1.port, 22221);
  });

  it('two devices on one explicit port is an error naming both', () => {
    assert.throws(
      () =>
        planFleet(
          emptyFleet(),
          input([
            { name: 'a', explicitPort: 23000 },
            { name: 'b', explicitPort: 23000 },
          ]),
        ),
      /a and b both use tunnel_port 23000/,
    );
  });

  it('keeps a recorded key when the device could not be read this run, and drops comments', () => {
    const old = planFleet(
      emptyFleet(),
      input([{ name: 'rpi1', relayKey: `${KEY(1)} relay-access rpi1`, hostKey: `${KEY(2)} root@rpi1` }]),
    );
    assert.equal(old.devices.rpi1.relay_key, KEY(1));
    const next = planFleet(old, input([{ name: 'rpi1' }]));
    assert.equal(next.devices.rpi1.relay_key, KEY(1));
    assert.equal(next.devices.rpi1.host_key, KEY(2));
  });

  it('rejects text that is not a public key', () => {
    const s = planFleet(emptyFleet(), input([{ name: 'rpi1', relayKey: 'ssh-ed25519 AAAA\ncommand="sh" x' }]));
    assert.equal(s.devices.rpi1.relay_key, undefined);
  });

  it('round-trips through its file format', () => {
    const s = planFleet(emptyFleet(), input([{ name: 'rpi1', relayKey: KEY(1) }], [{ name: 'ws', jumpKey: KEY(3) }]));
    assert.deepEqual(parseFleet(serializeFleet(s)), s);
    assert.deepEqual(parseFleet(''), emptyFleet());
    assert.throws(() => parseFleet('{"version": 7}'), /unrecognised/);
  });

  describe('ports a running tunnel still holds (a change may be rolled back)', () => {
    const fw = (name: string, port: number) => ({ name, port });
    const withWeb = planFleet(
      emptyFleet(),
      input([
        { name: 'rpi1', relayKey: KEY(1), forwards: [fw('web', 80)] },
        { name: 'rpi2', relayKey: KEY(2) },
      ]),
    );

    it('a removed forward stays allowed for the device this run, then goes', () => {
      const webPort = withWeb.devices.rpi1.forwards!.web.relay_port;
      assert.deepEqual([withWeb.devices.rpi1.port, webPort, withWeb.devices.rpi2.port], [22221, 22222, 22223]);
      const plan = planFleetChanges(
        withWeb,
        input([
          { name: 'rpi1', relayKey: KEY(1), currentPorts: [22221, webPort] },
          { name: 'rpi2', relayKey: KEY(2), currentPorts: [22223] },
        ]),
      );
      assert.equal(plan.state.devices.rpi1.forwards, undefined);
      assert.deepEqual(plan.retiring, { rpi1: [webPort] });
      const facts = relayTemplateFacts(plan.state, plan.retiring);
      assert.match(
        facts.relay_device_keys.find((k) => k.name === 'rpi1')!.permitlisten,
        new RegExp(`permitlisten="localhost:${webPort}"`),
      );
      assert.doesNotMatch(
        facts.relay_device_keys.find((k) => k.name === 'rpi2')!.permitlisten,
        new RegExp(`${webPort}`),
        'only its own device',
      );
      assert.match(facts.relay_permit, new RegExp(`localhost:${webPort}`));
      assert.doesNotMatch(facts.relay_client_permitopen, new RegExp(`${webPort}`), 'clients are never sent there');
      // Once the device runs the new tunnel (read on the next run), the port is no longer let in.
      const settled = planFleetChanges(
        plan.state,
        input([
          { name: 'rpi1', relayKey: KEY(1), currentPorts: [22221] },
          { name: 'rpi2', relayKey: KEY(2), currentPorts: [22223] },
        ]),
      );
      assert.deepEqual(settled.retiring, {});
      assert.doesNotMatch(relayTemplateFacts(settled.state, settled.retiring).relay_permit, new RegExp(`${webPort}`));
    });

    it('a device not read this run is taken to run what was recorded', () => {
      const plan = planFleetChanges(
        withWeb,
        input([{ name: 'rpi1', relayKey: KEY(1), explicitPort: 23000, forwards: [fw('web', 80)] }, { name: 'rpi2' }]),
      );
      assert.deepEqual(plan.retiring, { rpi1: [22221] });
    });

    it('a port still held is not given to a new device', () => {
      const plan = planFleetChanges(
        withWeb,
        input([
          { name: 'rpi1', relayKey: KEY(1), currentPorts: [22221, 22222] },
          { name: 'rpi2', currentPorts: [22223] },
          { name: 'aaa' },
        ]),
      );
      assert.deepEqual(plan.retiring, { rpi1: [22222] });
      assert.equal(plan.state.devices.aaa.port, 22224);
    });
  });
});

describe('sshd MaxStartups for the fleet (relay_max_startups)', () => {
  it("sshd's default up to 40 devices, then a quarter of the fleet in tens, dropping all only at twice that", () => {
    assert.equal(maxStartups(0), '10:30:100');
    assert.equal(maxStartups(40), '10:30:100');
    assert.equal(maxStartups(41), '20:30:100');
    assert.equal(maxStartups(300), '80:30:160');
    assert.equal(maxStartups(500), '130:30:260');
  });

  it('adding a device rarely changes it (so sshd is rarely reloaded for it)', () => {
    const changes = Array.from({ length: 999 }, (_, n) => maxStartups(n) !== maxStartups(n + 1)).filter(Boolean).length;
    assert.ok(changes <= 25, `${changes} changes between 0 and 1000 devices`);
  });

  it('is a fact of the relay, and in the sshd drop-in before any Match', () => {
    const fleet = planFleet(
      emptyFleet(),
      input(Array.from({ length: 120 }, (_, i) => ({ name: `d${i}`, relayKey: KEY(i % 250) }))),
    );
    const facts = relayTemplateFacts(fleet);
    assert.equal(facts.relay_max_startups, '30:30:100');
    const conf = String(
      renderHandlebars(
        readFileSync(join(bundledRolesDir(), 'relay-user', 'templates', 'relay-play.conf.hbs'), 'utf8'),
        facts,
      ),
    );
    const at = conf.indexOf('\nMaxStartups 30:30:100\n');
    assert.ok(at > 0 && at < conf.indexOf('\nMatch '), conf);
  });
});
