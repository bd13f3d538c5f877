// Day-2 fleet planning: forwards, keep/prune/remove of devices missing from the inventory, key rotation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  emptyFleet,
  forwardEntries,
  parseFleet,
  planFleet,
  planFleetChanges,
  relayTemplateFacts,
  serializeFleet,
  type FleetInput,
} from '../../src/relay/fleet.js';
import { parseEtimes, parseSs, sessionPids } from '../../src/relay/sessions.js';
import { fakeKey } from './keys.js';

const KEY = fakeKey;
const input = (devices: FleetInput['devices'], more: Partial<FleetInput> = {}): FleetInput => ({
  devices,
  clients: [],
  portBase: 22221,
  ...more,
});
const ports = (s: ReturnType<typeof planFleet>) =>
  Object.fromEntries(
    Object.entries(s.devices).map(([n, d]) => [
      n,
      [d.port, ...Object.entries(d.forwards ?? {}).map(([f, r]) => `${f}:${r.relay_port}`)],
    ]),
  );

describe('fleet: forwards', () => {
  it('forward ports come from the same pool: each device tunnel first, then its forwards by name', () => {
    const s = planFleet(
      emptyFleet(),
      input([
        { name: 'rpi2' },
        {
          name: 'rpi1',
          forwards: [
            { name: 'web', port: 80 },
            { name: 'db', port: 5432 },
          ],
        },
      ]),
    );
    assert.deepEqual(ports(s), { rpi1: [22221, 'db:22222', 'web:22223'], rpi2: [22224] });
    assert.deepEqual(s.devices.rpi1.forwards!.web, { port: 80, relay_port: 22223 });
  });

  it('adding a forward later keeps every recorded port', () => {
    const old = planFleet(emptyFleet(), input([{ name: 'rpi1' }, { name: 'rpi2' }]));
    const next = planFleet(old, input([{ name: 'rpi1', forwards: [{ name: 'web', port: 80 }] }, { name: 'rpi2' }]));
    assert.deepEqual(ports(next), { rpi1: [22221, 'web:22223'], rpi2: [22222] });
    assert.equal(
      serializeFleet(
        planFleet(next, input([{ name: 'rpi2' }, { name: 'rpi1', forwards: [{ name: 'web', port: 80 }] }])),
      ),
      serializeFleet(next),
      'stable',
    );
  });

  it('explicit relay_port, host and local_port are recorded; a clash with a tunnel port is an error', () => {
    const s = planFleet(
      emptyFleet(),
      input([
        {
          name: 'rpi1',
          forwards: [{ name: 'cam', port: 554, relayPort: 30000, host: '192.168.1.20', localPort: 8554 }],
        },
      ]),
    );
    assert.deepEqual(s.devices.rpi1.forwards!.cam, {
      port: 554,
      relay_port: 30000,
      host: '192.168.1.20',
      local_port: 8554,
    });
    assert.deepEqual(forwardEntries('rpi1', s.devices.rpi1), [
      { name: 'cam', alias: 'rpi1-cam', port: 554, relay_port: 30000, host: '192.168.1.20', local_port: 8554 },
    ]);
    assert.throws(
      () =>
        planFleet(
          emptyFleet(),
          input([
            { name: 'a', explicitPort: 23000 },
            { name: 'b', forwards: [{ name: 'web', port: 80, relayPort: 23000 }] },
          ]),
        ),
      /device a and forward b web both use relay port 23000/,
    );
    assert.throws(
      () =>
        planFleet(
          emptyFleet(),
          input([
            {
              name: 'a',
              forwards: [
                { name: 'w', port: 1 },
                { name: 'w', port: 2 },
              ],
            },
          ]),
        ),
      /two forwards named w/,
    );
  });

  it('defaults: target localhost, local port = relay port', () => {
    const s = planFleet(
      emptyFleet(),
      input([{ name: 'rpi1', forwards: [{ name: 'web', port: 80, host: 'localhost' }] }]),
    );
    assert.deepEqual(forwardEntries('rpi1', s.devices.rpi1), [
      { name: 'web', alias: 'rpi1-web', port: 80, relay_port: 22222, host: 'localhost', local_port: 22222 },
    ]);
  });

  it('the relay lets a device key listen on its tunnel and forward ports, and clients open them all', () => {
    const s = planFleet(
      emptyFleet(),
      input(
        [
          { name: 'rpi1', relayKey: KEY(1), forwards: [{ name: 'web', port: 80 }] },
          { name: 'rpi2', relayKey: KEY(2) },
        ],
        { clients: [{ name: 'ws', jumpKey: KEY(9) }] },
      ),
    );
    const f = relayTemplateFacts(s);
    assert.deepEqual(f.relay_device_keys, [
      {
        name: 'rpi1',
        port: 22221,
        relay_key: KEY(1),
        permitlisten: 'permitlisten="localhost:22221",permitlisten="localhost:22222"',
      },
      { name: 'rpi2', port: 22223, relay_key: KEY(2), permitlisten: 'permitlisten="localhost:22223"' },
    ]);
    assert.equal(f.relay_permit, 'localhost:22221 localhost:22222 localhost:22223');
    assert.equal(
      f.relay_client_permitopen,
      'permitopen="localhost:22221",permitopen="localhost:22222",permitopen="localhost:22223"',
    );
    assert.deepEqual(f.relay_client_keys, [{ name: 'ws', jump_key: KEY(9) }]);
    const none = relayTemplateFacts(emptyFleet());
    assert.equal(none.relay_permit, 'none');
    assert.equal(none.relay_client_permitopen, 'permitopen="localhost:1"');
  });
});

describe('fleet: devices missing from the inventory', () => {
  const old = planFleet(
    emptyFleet(),
    input(
      [
        { name: 'rpi1', relayKey: KEY(1) },
        { name: 'rpi2', relayKey: KEY(2), forwards: [{ name: 'web', port: 80 }] },
        { name: 'rpi3' },
      ],
      { clients: [{ name: 'ws', jumpKey: KEY(9) }] },
    ),
  );

  it('without prune they are kept whole (port, key, forwards) and reported', () => {
    const p = planFleetChanges(old, input([{ name: 'rpi1' }, { name: 'new1' }]));
    assert.deepEqual(p.kept, ['rpi2', 'rpi3', 'ws']);
    assert.deepEqual(p.dropped, []);
    assert.deepEqual(p.droppedPorts, []);
    assert.deepEqual(p.state.devices.rpi2, old.devices.rpi2);
    assert.equal(p.state.devices.new1.port, 22225, 'a new device never takes a kept device port');
    assert.deepEqual(p.state.clients.ws, { jump_key: KEY(9) });
  });

  it('with prune they are dropped, and every port they held is to be closed', () => {
    const p = planFleetChanges(old, input([{ name: 'rpi1' }], { prune: true }));
    assert.deepEqual(Object.keys(p.state.devices), ['rpi1']);
    assert.deepEqual(p.state.clients, {});
    assert.deepEqual(p.dropped, ['rpi2', 'rpi3', 'ws']);
    assert.deepEqual(p.droppedPorts, [22222, 22223, 22224]);
    assert.deepEqual(p.kept, []);
  });

  it('an explicit port held by a kept device is an error that says how to free it', () => {
    assert.throws(
      () => planFleetChanges(old, input([{ name: 'rpi1' }, { name: 'x', explicitPort: 22224 }])),
      /recorded for device rpi3, which is not in this inventory.*relay-play remove/,
    );
  });

  it('remove takes a device out even when it is in the inventory; others keep everything', () => {
    const p = planFleetChanges(
      old,
      input([{ name: 'rpi1' }, { name: 'rpi2' }, { name: 'rpi3' }], { remove: ['rpi2'], clients: [{ name: 'ws' }] }),
    );
    assert.deepEqual(Object.keys(p.state.devices), ['rpi1', 'rpi3']);
    assert.deepEqual(p.droppedPorts, [22222, 22223]);
    assert.deepEqual(p.dropped, ['rpi2']);
    assert.deepEqual(p.state.devices.rpi1, old.devices.rpi1);
    assert.deepEqual(p.state.devices.rpi3, old.devices.rpi3);
    assert.throws(() => planFleetChanges(old, input([], { remove: ['nope'] })), /no device nope/);
  });

  it('a port that moves to another device is closed; a forward dropped from a live device is not', () => {
    const moved = planFleetChanges(
      old,
      input(
        [
          { name: 'rpi1', explicitPort: 22224 },
          { name: 'rpi2', forwards: [{ name: 'web', port: 80 }] },
        ],
        { prune: true },
      ),
    );
    assert.deepEqual(moved.droppedPorts, [22224], 'rpi3 is gone and its port now belongs to rpi1');
    const noFw = planFleetChanges(old, input([{ name: 'rpi1' }, { name: 'rpi2' }, { name: 'rpi3' }]));
    assert.deepEqual(noFw.droppedPorts, [], "rpi2's tunnel restarts with its new unit anyway");
  });
});

describe('fleet: key rotation', () => {
  const old = planFleet(
    emptyFleet(),
    input([
      { name: 'rpi1', relayKey: KEY(1) },
      { name: 'rpi2', relayKey: KEY(2) },
    ]),
  );

  it('a new key waiting on the device is authorized beside the one in use', () => {
    const s = planFleet(
      old,
      input([{ name: 'rpi1', relayKey: KEY(1), nextRelayKey: `${KEY(11)} relay-access rpi1` }, { name: 'rpi2' }]),
    );
    assert.equal(s.devices.rpi1.relay_key, KEY(1));
    assert.equal(s.devices.rpi1.next_relay_key, KEY(11));
    assert.deepEqual(
      relayTemplateFacts(s).relay_device_keys.map((k) => [k.name, k.relay_key]),
      [
        ['rpi1', KEY(1)],
        ['rpi1', KEY(11)],
        ['rpi2', KEY(2)],
      ],
    );
    assert.deepEqual(parseFleet(serializeFleet(s)), s);
  });

  it('both stay while the device cannot be read (it may or may not have switched)', () => {
    const mid = planFleet(old, input([{ name: 'rpi1', relayKey: KEY(1), nextRelayKey: KEY(11) }, { name: 'rpi2' }]));
    const s = planFleet(mid, input([{ name: 'rpi1' }, { name: 'rpi2' }]));
    assert.equal(s.devices.rpi1.relay_key, KEY(1));
    assert.equal(s.devices.rpi1.next_relay_key, KEY(11));
  });

  it('once the device reports the new key in use, the old one is gone', () => {
    const mid = planFleet(old, input([{ name: 'rpi1', relayKey: KEY(1), nextRelayKey: KEY(11) }, { name: 'rpi2' }]));
    const done = planFleet(mid, input([{ name: 'rpi1', relayKey: KEY(11) }, { name: 'rpi2' }]));
    assert.equal(done.devices.rpi1.relay_key, KEY(11));
    assert.equal(done.devices.rpi1.next_relay_key, undefined);
    assert.deepEqual(
      relayTemplateFacts(done)
        .relay_device_keys.filter((k) => k.name === 'rpi1')
        .map((k) => k.relay_key),
      [KEY(11)],
    );
    const same = planFleet(mid, input([{ name: 'rpi1', relayKey: KEY(11), nextRelayKey: KEY(11) }, { name: 'rpi2' }]));
    assert.equal(same.devices.rpi1.next_relay_key, undefined);
  });

  it('the fleet file refuses ports that are not numbers (they reach shell commands)', () => {
    assert.throws(
      () => parseFleet(JSON.stringify({ version: 1, devices: { a: { port: '1; rm -rf /' } }, clients: {} })),
      /bad port/,
    );
    assert.throws(
      () =>
        parseFleet(
          JSON.stringify({
            version: 1,
            devices: { a: { port: 22221, forwards: { w: { port: 80, relay_port: 'x' } } } },
            clients: {},
          }),
        ),
      /bad port/,
    );
  });
});

describe('relay sessions (ss -Hltnp, ps etimes)', () => {
  const SS = [
    'LISTEN 0      128          0.0.0.0:22         0.0.0.0:*    users:(("sshd",pid=301,fd=3))',
    'LISTEN 0      128        127.0.0.1:22221      0.0.0.0:*    users:(("sshd",pid=1234,fd=10))',
    'LISTEN 0      128            [::1]:22221         [::]:*    users:(("sshd",pid=1234,fd=9))',
    'LISTEN 0      128        127.0.0.1:22222      0.0.0.0:*    users:(("sshd-session",pid=1300,fd=10),("sshd-session",pid=1299,fd=10))',
    'LISTEN 0      5            0.0.0.0:22223      0.0.0.0:*    users:(("python3",pid=77,fd=3))',
    'LISTEN 0      5          127.0.0.1:22224      0.0.0.0:*    users:(("python3",pid=78,fd=3))',
    'garbage',
  ].join('\n');
  const l = parseSs(SS);

  it('parses addresses, ports and processes', () => {
    assert.equal(l.length, 6);
    assert.deepEqual(l[2], { address: '::1', port: 22221, processes: [{ name: 'sshd', pid: 1234 }] });
  });

  it('finds the sshd sessions on loopback only', () => {
    assert.deepEqual(sessionPids(l, 22221), [1234]);
    assert.deepEqual(sessionPids(l, 22222), [1299, 1300]);
    assert.deepEqual(sessionPids(l, 22223), [], 'not loopback, not sshd');
    assert.deepEqual(sessionPids(l, 22224), [], 'not sshd');
    assert.deepEqual(sessionPids(l, 22), [], 'the main sshd listens on 0.0.0.0');
  });

  it('reads ps etimes', () => {
    assert.deepEqual(
      [...parseEtimes('   1234     75\n 1300 3\nbad\n')],
      [
        [1234, 75],
        [1300, 3],
      ],
    );
  });
});
