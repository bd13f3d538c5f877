// Day 2 with two relays (issue 26: "rotate and remove act on every relay"). rotate: both relays take the
// new key before the device switches, both tunnels of the device restart with it (each confirmed through
// its relay), and the old key is refused on both. rotate with one relay black-holed: exit 4 naming it, the
// device keeps working through the other, and the next apply that reaches it brings it up to date (old
// key refused there too). remove: the device's key is refused on both relays, its tunnels and records
// gone. Relays on Debian 13 and 12 (ra, rb), devices and client on Debian 13.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { labAvailable, startLab, type Lab } from './lab/index.js';
import { setupClientLogin } from './integration/relay-lab.js';
import { recap, relayPlay, show, tempDir, waitFor, writeYaml } from './integration/util.js';

const avail = labAvailable();
const RELAYS = ['ra', 'rb'] as const;
/** Each tunnel of a device: its unit, and the file pinning its relay's host key. */
const TUNNEL = {
  ra: { unit: 'relay-tunnel.service', pin: 'known_hosts' },
  rb: { unit: 'relay-tunnel-rb.service', pin: 'known_hosts-rb' },
};

describe(
  'day 2 with two relays: rotate and remove act on every relay',
  { skip: avail.ok ? false : avail.why, timeout: 600_000 },
  () => {
    let lab: Lab;
    let inventory: string;

    const fleetOn = async (relay: string) => (await lab.exec(relay, 'sudo cat /var/lib/relay-play/fleet.json')).stdout;
    const fleet = async (relay: string) =>
      JSON.parse(await fleetOn(relay)) as {
        devices: Record<string, { port: number; relay_key?: string; next_relay_key?: string }>;
      };
    const invocations = async (device: string) =>
      (await lab.exec(device, `systemctl show -p InvocationID --value ${TUNNEL.ra.unit} ${TUNNEL.rb.unit}`)).stdout;
    const active = async (device: string) =>
      (await lab.exec(device, `systemctl is-active ${TUNNEL.ra.unit} ${TUNNEL.rb.unit}`)).stdout.trim();
    /** A root-only copy of the device's relay key now, and of both pinned relay host keys (for tryKey). */
    const keepKey = async (device: string) => {
      const r = await lab.exec(
        device,
        'f=$(sudo mktemp /root/old-relay-key.XXXXXX) && sudo cp /etc/relay-play/id_relay "$f" && sudo chmod 0600 "$f" && ' +
          'sudo cp /etc/relay-play/known_hosts /etc/relay-play/known_hosts-rb /root/ && echo "$f"',
      );
      assert.equal(r.code, 0, show(r));
      return r.stdout.trim();
    };
    /** A relay key tried from the device as its tunnel to `relay` logs in: 255 refused, 1 accepted (ForceCommand /bin/false). */
    const tryKey = (device: string, keyFile: string, relay: 'ra' | 'rb') =>
      lab.exec(
        device,
        `sudo ssh -F none -T -i ${keyFile} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/root/${TUNNEL[relay].pin} -o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=relay-play-relay -o ConnectTimeout=5 relay@${lab.hosts[relay].ip} true`,
        { timeoutMs: 20_000 },
      );
    const assertRefused = async (device: string, keyFile: string, relay: 'ra' | 'rb', what: string) => {
      const r = await tryKey(device, keyFile, relay);
      assert.equal(r.code, 255, `${what}: refused on ${relay}\n${show(r)}`);
      assert.match(r.stderr, /Permission denied/, `${what} on ${relay}: ${show(r)}`);
    };
    /** `ssh DEVICE hostname` from the client through one relay only (its Host relay-play-RELAY). */
    const sshThrough = (device: string, relay: string) =>
      lab.exec(
        'client',
        `ssh -o BatchMode=yes -o ProxyCommand='ssh -o ConnectTimeout=5 -W %h:%p relay-play-${relay}' ${device} hostname`,
        { timeoutMs: 20_000 },
      );
    const reachableThrough = async (device: string, relay: string) =>
      (await sshThrough(device, relay)).stdout.trim() === device;
    /** The fingerprint of the key the device's tunnel last logged in to `relay` with (the relay's sshd log). */
    const lastLogin = async (device: string, relay: string) => {
      const r = await lab.exec(
        relay,
        `sudo journalctl --no-pager -o cat | grep -F 'Accepted publickey for relay from ${lab.hosts[device].ip} ' | tail -n 1`,
      );
      return /SHA256:\S+/.exec(r.stdout)?.[0];
    };
    const fingerprint = async (device: string) =>
      (await lab.exec(device, "ssh-keygen -lf /etc/relay-play/id_relay.pub | cut -d' ' -f2")).stdout.trim();

    before(async () => {
      lab = await startLab(['ra', 'rb', 'rpi1', 'rpi2', 'client'], {
        release: { ra: 'trixie', rb: 'bookworm', rpi1: 'trixie', rpi2: 'trixie', client: 'trixie' },
        bootTimeoutMs: 300_000,
      });
      const hosts = lab.inventoryHosts();
      const pick = (names: string[]) => Object.fromEntries(names.map((n) => [n, hosts[n]]));
      inventory = writeYaml(tempDir('relay-play-relays-day2-'), 'inventory.yaml', {
        all: {
          children: {
            relay: { hosts: pick([...RELAYS]) },
            devices: { hosts: pick(['rpi1', 'rpi2']) },
            clients: { hosts: pick(['client']) },
          },
        },
      });
      await setupClientLogin(lab, ['rpi1', 'rpi2']);
      const r = await relayPlay(lab, ['apply', inventory], 300_000);
      assert.equal(r.code, 0, show(r));
      for (const d of ['rpi1', 'rpi2']) assert.equal(await active(d), 'active\nactive', `${d}: a tunnel to each relay`);
    });

    after(async () => {
      await lab?.teardown();
    });

    it('rotate: both relays take the new key, both tunnels restart with it, the old key is refused on both', async () => {
      const oldKey = await keepKey('rpi1');
      for (const relay of RELAYS)
        assert.equal((await tryKey('rpi1', oldKey, relay)).code, 1, `control: the old key works on ${relay} before`);
      const before = { rpi1: await invocations('rpi1'), rpi2: await invocations('rpi2') };
      const oldRecord = (await fleet('ra')).devices.rpi1.relay_key;

      const t0 = Date.now();
      const r = await relayPlay(lab, ['rotate', inventory, 'rpi1']);
      const took = (Date.now() - t0) / 1000;
      assert.equal(r.code, 0, show(r));
      assert.match(r.stderr, /^rpi1: new relay key in use; the old one is refused\.$/m, show(r));
      console.log(`# rotate rpi1 with two relays took ${took.toFixed(1)} s`);

      const f = await fleet('ra');
      assert.equal(await fleetOn('rb'), await fleetOn('ra'), 'both relays hold the same fleet state');
      assert.notEqual(f.devices.rpi1.relay_key, oldRecord);
      assert.equal(f.devices.rpi1.next_relay_key, undefined);
      const pub = await lab.exec(
        'rpi1',
        'cut -d" " -f1,2 /etc/relay-play/id_relay.pub; sudo test ! -e /etc/relay-play/id_relay.new && echo no-new',
      );
      assert.equal(pub.stdout, `${f.devices.rpi1.relay_key}\nno-new\n`, show(pub));

      const fp = await fingerprint('rpi1');
      for (const relay of RELAYS) {
        await assertRefused('rpi1', oldKey, relay, 'the old key');
        assert.equal(
          (await tryKey('rpi1', '/etc/relay-play/id_relay', relay)).code,
          1,
          `the new key works on ${relay}`,
        );
        const keys = await lab.exec(relay, 'sudo cat /home/relay/.ssh/authorized_keys');
        assert.equal(
          keys.stdout.split('\n').filter((l) => l.endsWith(' relay-play device rpi1')).length,
          1,
          keys.stdout,
        );
        assert.ok(keys.stdout.includes(f.devices.rpi1.relay_key!), `${relay} authorizes the new key`);
      }
      // Both tunnels restarted after the switch, so each logged in again, with the new key.
      const now = await invocations('rpi1');
      assert.equal(await active('rpi1'), 'active\nactive');
      const [a0, b0] = before.rpi1.split('\n').filter(Boolean);
      const [a1, b1] = now.split('\n').filter(Boolean);
      assert.ok(a1 !== a0 && b1 !== b0, `both tunnels of rpi1 restarted: ${before.rpi1} -> ${now}`);
      for (const relay of RELAYS) {
        await waitFor(`rpi1 through ${relay}`, 30_000, () => reachableThrough('rpi1', relay));
        assert.equal(await lastLogin('rpi1', relay), fp, `rpi1's tunnel to ${relay} logged in with the new key`);
      }
      assert.equal(await invocations('rpi2'), before.rpi2, 'rpi2 untouched');

      const again = await relayPlay(lab, ['apply', inventory], 300_000);
      assert.equal(again.code, 0, show(again));
      for (const [h, c] of Object.entries(recap(again.stdout)))
        assert.equal(c.changed, 0, `the apply after rotate changes nothing (${h})\n${again.stdout}`);
    });

    it('rotate with rb black-holed: exit 4 naming rb, rpi1 goes on through ra; the next apply brings rb up to date', async () => {
      const oldKey = await keepKey('rpi1');
      await lab.setLink('rb', false);
      const r = await relayPlay(lab, ['rotate', inventory, 'rpi1']).finally(() => lab.setLink('rb', true));
      assert.equal(r.code, 4, show(r));
      assert.match(r.stdout + r.stderr, /\brb\b.*unreachable|unreachable.*\brb\b/i, show(r));
      assert.match(r.stderr, /^rpi1: new relay key in use; rb was not brought up to date/m, show(r));
      assert.equal(recap(r.stdout).rpi1?.failed, 0, show(r));
      await assertRefused('rpi1', oldKey, 'ra', 'the old key');
      assert.equal((await tryKey('rpi1', '/etc/relay-play/id_relay', 'ra')).code, 1, 'the new key works on ra');
      assert.ok(await reachableThrough('rpi1', 'ra'), 'rpi1 through ra');
      // rb, back, still has the key from before this rotate: the next apply that reaches it catches up.
      assert.equal((await tryKey('rpi1', oldKey, 'rb')).code, 1, 'control: rb still accepts the old key');

      const up = await relayPlay(lab, ['apply', inventory], 300_000);
      assert.equal(up.code, 0, show(up));
      assert.equal(await fleetOn('rb'), await fleetOn('ra'), 'rb holds the same fleet state again');
      await assertRefused('rpi1', oldKey, 'rb', 'the old key, after the apply');
      assert.equal((await tryKey('rpi1', '/etc/relay-play/id_relay', 'rb')).code, 1, 'the new key works on rb');
      const s = await waitFor('rpi1 through rb', 30_000, () => reachableThrough('rpi1', 'rb'));
      console.log(`# rpi1 reachable through rb ${s.toFixed(1)} s after the apply`);
      assert.equal(await lastLogin('rpi1', 'rb'), await fingerprint('rpi1'));
    });

    it('remove rpi1: its key refused on both relays, its records and sessions gone there, both tunnels gone from it', async () => {
      const key = await keepKey('rpi1');
      const port = (await fleet('ra')).devices.rpi1.port;
      const r = await relayPlay(lab, ['remove', inventory, 'rpi1']);
      assert.equal(r.code, 0, show(r));
      for (const relay of RELAYS) {
        await assertRefused('rpi1', key, relay, "rpi1's key");
        assert.equal((await fleet(relay)).devices.rpi1, undefined, `${relay} forgot rpi1`);
        const keys = await lab.exec(relay, 'sudo cat /home/relay/.ssh/authorized_keys');
        assert.doesNotMatch(keys.stdout, /relay-play device rpi1$/m, `${relay}: ${keys.stdout}`);
        const ss = await lab.exec(relay, `ss -Hltn 'sport = :${port}'`);
        assert.equal(ss.stdout.trim(), '', `${relay} ended rpi1's tunnel`);
      }
      const dev = await lab.exec(
        'rpi1',
        "ls /etc/systemd/system | grep -c '^relay-tunnel'; systemctl list-units --plain --no-legend 'relay-tunnel*' | wc -l; test -e /etc/relay-play && echo key-left || echo key-gone",
      );
      assert.equal(dev.stdout, '0\n0\nkey-gone\n', `rpi1: no tunnel unit installed or loaded, no key\n${show(dev)}`);
      const cfg = await lab.exec('client', 'cat ~/.ssh/config ~/.ssh/known_hosts.relay-play');
      assert.doesNotMatch(cfg.stdout, /rpi1/);
      for (const relay of RELAYS) assert.ok(await reachableThrough('rpi2', relay), `rpi2 through ${relay}`);
    });
  },
);
