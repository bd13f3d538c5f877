// `relay-play status` and the relay's tunnel watcher: what it makes of the watcher's record
// (/var/lib/relay-play/watch/state, read in the status script's round trip), in --json and the table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyFleet, planFleetChanges, serializeFleet } from '../../src/relay/fleet.js';
import { lastSeenCell, parseProbe, parseWatchState, statusRows, statusTable } from '../../src/relay/status.js';
import { fakeKey } from './keys.js';

const KEY = fakeKey;

describe('status: the watcher record', () => {
  const fleet = planFleetChanges(emptyFleet(), {
    devices: [1, 2, 3].map((i) => ({ name: `rpi${i}`, hostKey: KEY(i) })),
    clients: [],
    portBase: 22221,
  }).state;
  const t0 = Date.parse('2026-01-01T12:00:00Z') / 1000;
  const probe = (watch: string | undefined) =>
    parseProbe(
      [
        '---fleet',
        serializeFleet(fleet).trimEnd(),
        ...(watch === undefined ? [] : ['---watch', watch]),
        '---scan yes',
        '---ss',
        'LISTEN 0 128 127.0.0.1:22221 0.0.0.0:* users:(("sshd",pid=100,fd=10))',
        '---ps',
        '  100  60',
        '---key 22221',
        `[127.0.0.1]:22221 ${fleet.devices.rpi1.host_key ?? ''}`,
        '',
      ].join('\n'),
    );
  const WATCH = [
    '# relay-play tunnel watcher: device port state since last_seen changes announced',
    `rpi1 22221 up ${t0 - 60} ${t0} 1 up`,
    `rpi2 22222 down ${t0 - 300} ${t0 - 305} 3 down`,
    `rpi3 22223 never ${t0 - 900} 0 0 up`,
  ].join('\n');
  const now = new Date(t0 * 1000);

  it('every device gets last_seen (ISO) from the record; one never seen up says so', () => {
    const rows = statusRows(['rpi1', 'rpi2', 'rpi3', 'rpi9'], fleet, probe(WATCH), now);
    assert.deepEqual(
      rows.map((r) => [r.name, r.last_seen, r.watch?.state ?? null]),
      [
        ['rpi1', '2026-01-01T12:00:00.000Z', 'up'],
        ['rpi2', '2026-01-01T11:54:55.000Z', 'down'],
        ['rpi3', null, 'never'],
        ['rpi9', null, null],
      ],
    );
    assert.deepEqual(rows[1].watch, { state: 'down', since: '2026-01-01T11:55:00.000Z', changes: 3 });
    assert.equal(lastSeenCell(rows[1], now), '5m 05s ago');
    assert.equal(lastSeenCell(rows[2], now), 'never');
    assert.equal(lastSeenCell(rows[0], now), '-');
    const table = statusTable(rows, { color: false, now });
    assert.match(table, /^DEVICE +PORT +TUNNEL +UP FOR +LAST SEEN +ERROR\n/);
    assert.match(table, /^rpi2 +22222 +down +- +5m 05s ago +/m);
    assert.match(table, /^rpi3 +22223 +down +- +never +/m);
    assert.match(table, /^rpi1 +22221 +up +1m 00s +- *$/m);
  });

  it('no watcher on the relay: null, and the table as before', () => {
    const rows = statusRows(['rpi1', 'rpi2'], fleet, probe(undefined), now);
    assert.deepEqual(
      rows.map((r) => [r.last_seen, r.watch]),
      [
        [null, null],
        [null, null],
        [null, null],
      ],
    );
    assert.match(statusTable(rows, { color: false, now }), /^DEVICE +PORT +TUNNEL +UP FOR +ERROR\n/);
  });

  it('the record as the status script reads it: lines that do not parse are skipped', () => {
    const w = parseWatchState(`${WATCH}\nbroken line\nrpi4 x up 1 2 3 up\nrpi5 22225 sideways 1 2 3 up\n`);
    assert.deepEqual([...w.keys()], ['rpi1', 'rpi2', 'rpi3']);
  });
});
