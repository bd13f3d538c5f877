// The product end to end on real hosts: relay, three devices, a client — all Debian 13 (OpenSSH 10.0),
// the relay behind a port forward (devices and clients dial 2222, its sshd listens on 22), as many
// home and cloud relays are. (test/faults.test.ts runs a Debian 12 relay with Debian 13 devices.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { labAvailable, startLab, type Lab } from './lab/index.js';
import { fleetState, stateChanges } from './integration/snapshot.js';
import { recap, relayPlay, show, tempDir, waitFor, writeYaml } from './integration/util.js';
import { diagnose, waitReachable } from './integration/relay-lab.js';

const avail = labAvailable();
const DIALED = 2222;
const BOUND_S = 30;

describe(
  'relay-play apply on a Debian 13 lab fleet, relay behind a port forward',
  { skip: avail.ok ? false : avail.why, timeout: 900_000 },
  () => {
    let lab: Lab;
    let dir: string;
    let inventory: string;
    /** The lab; and the hosts of the first inventory (rpi3 is added later). */
    const ALL_HOSTS = ['server', 'rpi1', 'rpi2', 'client', 'rpi3'];
    const INVENTORY_HOSTS = ['server', 'rpi1', 'rpi2', 'client'];
    /**
     * What a check run may leave: the run's lock on the relay (src/engine/runner/lock.ts; an empty file in
     * /run/lock, a tmpfs), which a check takes too, so it never reads what another run is writing.
     */
    const CHECK_LEAVES = { server: ['/run/lock', '/run/lock/relay-play.lock'] };

    const inventoryData = (
      devices: string[],
      relayVars: Record<string, unknown> = { relay_ssh_port: DIALED, relay_sshd_port: 22 },
    ) => {
      const hosts = lab.inventoryHosts();
      const pick = (names: string[], extra: Record<string, Record<string, unknown>> = {}) =>
        Object.fromEntries(names.map((n) => [n, { ...hosts[n], ...(extra[n] ?? {}) }]));
      return {
        all: {
          children: {
            relay: { hosts: pick(['server'], { server: relayVars }) },
            devices: { hosts: pick(devices, { rpi2: { tunnel_port: 22230 } }) },
            clients: { hosts: pick(['client']) },
          },
        },
      };
    };
    const apply = async (...extra: string[]) => relayPlay(lab, ['apply', inventory, ...extra]);
    /** `ssh DEVICE hostname` run by admin on the client, through the relay, never prompting. */
    const sshFromClient = (device: string) =>
      lab.exec('client', `ssh -o BatchMode=yes -o ConnectTimeout=5 ${device} hostname`, { timeoutMs: 20_000 });
    const tunnelPid = async (device: string) =>
      (await lab.exec(device, 'systemctl show -p MainPID --value relay-tunnel.service')).stdout.trim();

    before(async () => {
      lab = await startLab(['server', 'rpi1', 'rpi2', 'client', 'rpi3'], { release: 'trixie' });
      // Nothing listens on 2222 on the relay: a router-style redirect takes it to sshd's 22.
      await lab.forwardPort('server', DIALED, 22);
      dir = tempDir();
      inventory = writeYaml(dir, 'inventory.yaml', inventoryData(['rpi1', 'rpi2']));
      // The person on the client logs in to devices with their own key (relay-play only manages the way there).
      const key = await lab.exec(
        'client',
        "ssh-keygen -q -t ed25519 -N '' -f ~/.ssh/id_ed25519 && cat ~/.ssh/id_ed25519.pub",
      );
      assert.equal(key.code, 0, show(key));
      for (const d of ['rpi1', 'rpi2', 'rpi3']) {
        const r = await lab.exec(d, 'cat >> ~/.ssh/authorized_keys', { input: key.stdout });
        assert.equal(r.code, 0, show(r));
      }
      // Lines the user wrote in ~/.ssh/config must survive.
      await lab.exec(
        'client',
        "printf '# my own settings\\nHost myserver\\n    HostName 198.18.0.250\\n' > ~/.ssh/config && chmod 600 ~/.ssh/config",
      );
    });

    after(async () => {
      await lab?.teardown();
    });

    it('--check --diff on fresh hosts shows what would change and writes nothing on any host', async () => {
      const before = await fleetState(lab, ALL_HOSTS);
      const r = await apply('--check', '--diff');
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^\+Match User relay$/m, show(r));
      const stats = recap(r.stdout);
      assert.deepEqual(Object.keys(stats).sort(), [...INVENTORY_HOSTS].sort(), show(r));
      for (const h of INVENTORY_HOSTS) assert.ok(stats[h].changed > 0, `${h} would change: ${show(r)}`);
      assert.deepEqual(
        stateChanges(before, await fleetState(lab, ALL_HOSTS), CHECK_LEAVES),
        {},
        'check mode wrote nothing, started nothing, created no user',
      );
    });

    it('one apply on fresh hosts: ssh rpi1 hostname works from the client through the relay', async () => {
      const r = await apply();
      assert.equal(r.code, 0, show(r));
      const stats = recap(r.stdout);
      for (const h of ['server', 'rpi1', 'rpi2', 'client'])
        assert.ok(stats[h]?.changed > 0, `${h} changed: ${show(r)}`);
      for (const d of ['rpi1', 'rpi2']) {
        await waitFor(`ssh ${d} through the relay`, 30_000, async () => (await sshFromClient(d)).stdout.trim() === d);
      }
      const cfg = await lab.exec('client', 'cat ~/.ssh/config');
      assert.match(cfg.stdout, /^# my own settings\nHost myserver\n {4}HostName 198.18.0.250\n/m, 'user lines kept');
      assert.match(cfg.stdout, /Host rpi2\n\s+HostName localhost\n\s+Port 22230\n/, 'explicit tunnel_port used');
      assert.match(
        cfg.stdout,
        new RegExp(`Host relay\\n\\s+HostName ${lab.hosts.server.ip.replace(/\./g, '\\.')}\\n\\s+Port ${DIALED}\\n`),
        'clients dial the forwarded port',
      );
      const unit = await lab.exec('rpi1', 'systemctl cat relay-tunnel.service');
      assert.match(unit.stdout, new RegExp(` -p ${DIALED} -R `), 'devices dial the forwarded port');
      const reaper = await lab.exec('server', 'cat /usr/local/lib/relay-play/reap-stale-tunnels');
      assert.match(reaper.stdout, /sport = :22 \)/, 'the reaper watches the port sshd listens on');
      // Host keys are pinned: the device's real key, no TOFU entry added anywhere else.
      const pinned = await lab.exec(
        'client',
        'cat ~/.ssh/known_hosts.relay-play; test ! -s ~/.ssh/known_hosts && echo no-tofu',
      );
      const real = await lab.exec('rpi1', 'cut -d" " -f1,2 /etc/ssh/ssh_host_ed25519_key.pub');
      assert.ok(pinned.stdout.includes(`rpi1 ${real.stdout.trim()}`), pinned.stdout);
      assert.match(pinned.stdout, /no-tofu/);
    });

    it('a second apply changes nothing on any host, in one privileged round trip on a device', async () => {
      // sudo logs every command it runs: count them on rpi1 around the apply (the count itself is one).
      const sudoCount = async () =>
        Number((await lab.exec('rpi1', "sudo journalctl -q --no-pager _COMM=sudo | grep -c 'COMMAND='")).stdout.trim());
      const before = await sudoCount();
      const r = await apply();
      const sudos = (await sudoCount()) - before - 1;
      assert.equal(r.code, 0, show(r));
      const stats = recap(r.stdout);
      for (const h of ['server', 'rpi1', 'rpi2', 'client']) assert.equal(stats[h]?.changed, 0, `${h}: ${show(r)}`);
      // Two plays run on a device (enrollment, tunnel): their reads go in one batch once it is connected
      // (src/engine/runner/early-reads.ts), and nothing changes, so all of them serve.
      assert.equal(sudos, 1, `sudo on rpi1 during a no-change apply: ${sudos}`);
    });

    it('ports are stable when the inventory is re-ordered', async () => {
      const reordered = inventoryData(['rpi2', 'rpi1']);
      const file = writeYaml(dir, 'reordered.yaml', reordered);
      const r = await relayPlay(lab, ['apply', file]);
      assert.equal(r.code, 0, show(r));
      const stats = recap(r.stdout);
      assert.deepEqual(Object.keys(stats).sort(), [...INVENTORY_HOSTS].sort(), show(r));
      for (const h of INVENTORY_HOSTS) assert.equal(stats[h].changed, 0, `${h}: ${show(r)}`);
    });

    it('adding rpi3 changes only rpi3, the relay and the client; other tunnels never drop', async () => {
      const pids = { rpi1: await tunnelPid('rpi1'), rpi2: await tunnelPid('rpi2') };
      writeYaml(dir, 'inventory.yaml', inventoryData(['rpi1', 'rpi2', 'rpi3']));
      const r = await apply();
      assert.equal(r.code, 0, show(r));
      const stats = recap(r.stdout);
      assert.equal(stats.rpi1.changed, 0, show(r));
      assert.equal(stats.rpi2.changed, 0, show(r));
      for (const h of ['rpi3', 'server', 'client']) assert.ok(stats[h].changed > 0, `${h}: ${show(r)}`);
      await waitFor('ssh rpi3', 30_000, async () => (await sshFromClient('rpi3')).stdout.trim() === 'rpi3');
      assert.equal(await tunnelPid('rpi1'), pids.rpi1, 'rpi1 tunnel process unchanged');
      assert.equal(await tunnelPid('rpi2'), pids.rpi2, 'rpi2 tunnel process unchanged');
      assert.equal((await sshFromClient('rpi1')).stdout.trim(), 'rpi1');
    });

    it('--check --diff after a hand edit shows the diff and changes nothing on any host', async () => {
      const edit = await lab.exec(
        'client',
        "sed -i 's/Port 22230/Port 22299/' ~/.ssh/config && grep -c 'Port 22299' ~/.ssh/config",
      );
      assert.equal(edit.stdout.trim(), '1', show(edit));
      const before = await fleetState(lab, ALL_HOSTS);
      const r = await apply('--check', '--diff');
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^-\s+Port 22299$/m, show(r));
      assert.match(r.stdout, /^\+\s+Port 22230$/m, show(r));
      const stats = recap(r.stdout);
      assert.deepEqual(Object.keys(stats).sort(), ['client', 'rpi1', 'rpi2', 'rpi3', 'server'], show(r));
      for (const [h, s] of Object.entries(stats)) assert.equal(s.changed, h === 'client' ? 1 : 0, `${h}: ${show(r)}`);
      assert.deepEqual(
        stateChanges(before, await fleetState(lab, ALL_HOSTS), CHECK_LEAVES),
        {},
        'check mode wrote nothing',
      );
      const fix = await apply();
      assert.equal(fix.code, 0, show(fix));
      assert.equal(recap(fix.stdout).client.changed, 1, show(fix));
    });

    it('relay_sshd_port left out behind the port forward: apply fails naming both variables, and changes nothing', async () => {
      const file = writeYaml(
        dir,
        'no-sshd-port.yaml',
        inventoryData(['rpi1', 'rpi2', 'rpi3'], { relay_ssh_port: DIALED }),
      );
      const before = await lab.exec(
        'server',
        'sudo sha256sum /usr/local/lib/relay-play/reap-stale-tunnels /etc/ssh/sshd_config.d/relay-play.conf',
      );
      const r = await relayPlay(lab, ['apply', file]);
      assert.equal(r.code, 2, show(r));
      const fatal = r.stdout.split('\n').filter((l) => l.startsWith('fatal: '));
      assert.equal(fatal.length, 1, show(r));
      assert.match(
        fatal[0],
        /^fatal: \[server\] .*sshd on server listens on port 22, not 2222 \(relay_sshd_port: .*relay_ssh_port: /,
        show(r),
      );
      for (const [h, s] of Object.entries(recap(r.stdout))) assert.equal(s.changed, 0, `${h}: ${show(r)}`);
      const afterSums = await lab.exec(
        'server',
        'sudo sha256sum /usr/local/lib/relay-play/reap-stale-tunnels /etc/ssh/sshd_config.d/relay-play.conf',
      );
      assert.equal(afterSums.stdout, before.stdout, 'the reaper still watches port 22');
    });

    it('OpenSSH 10 device: 50 connections through the relay that never log in, then ssh rpi1 still works', async () => {
      const port = Number(
        /Host rpi1\n\s+HostName localhost\n\s+Port (\d+)/.exec(
          (await lab.exec('client', 'cat ~/.ssh/config')).stdout,
        )?.[1],
      );
      // Through one authenticated jump session (the client's own master connection to the relay), 50
      // channels to rpi1's sshd that close at once: each is a connection without an authentication attempt.
      const probe = [
        'ssh -o BatchMode=yes -o ControlMaster=yes -o ControlPath=/tmp/relay-play-cm-%C -o ControlPersist=60 -fN relay',
        `for i in $(seq 50); do ssh -o ControlPath=/tmp/relay-play-cm-%C -W localhost:${port} relay </dev/null >/dev/null 2>&1; done`,
        'ssh -o ControlPath=/tmp/relay-play-cm-%C -O exit relay 2>/dev/null',
      ].join('; ');
      const penalties = async () =>
        Number(
          (
            await lab.exec(
              'rpi1',
              "sudo journalctl -u ssh --no-pager -o cat | grep -c 'penalty: connections without attempting authentication'",
            )
          ).stdout.trim(),
        );
      const loopback = '/etc/ssh/sshd_config.d/relay-play-loopback.conf';
      assert.match(
        (await lab.exec('rpi1', `cat ${loopback}`)).stdout,
        /^PerSourcePenaltyExemptList 127\.0\.0\.0\/8,::1\/128$/m,
      );

      // Control: without relay-play's drop-in, the same 50 lock every client out.
      const off = await lab.exec('rpi1', `sudo mv ${loopback} /root/ && sudo systemctl reload ssh`);
      assert.equal(off.code, 0, show(off));
      const before = await penalties();
      assert.equal((await lab.exec('client', probe, { timeoutMs: 120_000 })).code, 0);
      const locked = await sshFromClient('rpi1');
      assert.notEqual(locked.stdout.trim(), 'rpi1', `without the exemption ssh rpi1 is refused: ${show(locked)}`);
      assert.ok((await penalties()) > before, 'sshd logged the penalty');

      // apply puts the drop-in back (sshd -t, reload); the same 50 change nothing for the owner.
      const r = await apply();
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^changed: \[rpi1\] device-sshd : loopback exempt from PerSourcePenalties/m, show(r));
      assert.match(r.stdout, /^changed: \[rpi1\] device-sshd : reload sshd/m, show(r));
      const t0 = Date.now();
      const counted = await penalties();
      assert.equal((await lab.exec('client', probe, { timeoutMs: 120_000 })).code, 0);
      console.log(`# 50 unauthenticated connections through the relay took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const still = await sshFromClient('rpi1');
      assert.equal(still.stdout.trim(), 'rpi1', show(still));
      assert.equal(await penalties(), counted, 'no penalty logged');
    });

    it(`behind the port forward, a device that changes address: ssh rpi1 works again within ${BOUND_S} s`, async () => {
      await lab.changeIp('rpi1', '198.18.0.60');
      writeYaml(dir, 'inventory.yaml', inventoryData(['rpi1', 'rpi2', 'rpi3'])); // later applies reach rpi1 there
      const secs = await waitReachable(lab, ['rpi1'], 90_000, 'after IP change');
      console.log(
        `# Debian 13, relay behind a port forward: ssh rpi1 back ${secs.toFixed(1)} s after its new address was up`,
      );
      assert.ok(secs <= BOUND_S, `rpi1 back after ${secs} s\n${await diagnose(lab, ['rpi1'])}`);
    });

    it('a device reboot brings its tunnel back by itself', async () => {
      await lab.reboot('rpi1');
      const secs = await waitFor(
        'rpi1 tunnel after reboot',
        60_000,
        async () => (await sshFromClient('rpi1')).stdout.trim() === 'rpi1',
        1000,
      );
      console.log(`# rpi1 reachable again ${secs.toFixed(1)} s after its sshd answered`);
    });
  },
);
