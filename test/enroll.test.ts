// Zero-touch enrolment (issue 16): `relay-play enroll` for a device the runner never reaches directly.
// Here the --script form, run by hand on a fresh lab host that is "away" from the start. Then with two
// relays (issue 26): user-data with a tunnel to each, the device reachable through either alone.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { labAvailable, startLab, type Lab } from './lab/index.js';
import { relayInventory, seconds, setupClientLogin, sshFromClient } from './integration/relay-lab.js';
import { CLI, recap, relayPlay, show, tempDir, waitFor, writeYaml } from './integration/util.js';

const avail = labAvailable();

describe(
  "zero-touch enrolment: a device that was never on the admin's network",
  { skip: avail.ok ? false : avail.why, timeout: 900_000 },
  () => {
    let lab: Lab;
    let dir: string;
    let inventory: string;
    const relayFiles = async () =>
      (
        await lab.exec(
          'server',
          'sudo cat /var/lib/relay-play/fleet.json /home/relay/.ssh/authorized_keys /etc/ssh/sshd_config.d/relay-play.conf',
        )
      ).stdout;
    const statusRows = async () => {
      const r = await relayPlay(lab, ['status', inventory, '--json']);
      type Row = { name: string; up: boolean; error: string | null; awaiting_since: string | null };
      return { r, rows: Object.fromEntries((JSON.parse(r.stdout) as Row[]).map((x) => [x.name, x])) };
    };
    /** Try a relay key from the runner's namespace: exit 255 when the relay refuses it. */
    const tryRelayKey = async (privateKey: string) => {
      const file = join(dir, `key-${Date.now()}`);
      (await import('node:fs')).writeFileSync(file, privateKey, { mode: 0o600 });
      return lab.run(
        [
          'ssh',
          '-F',
          '/dev/null',
          '-T',
          '-i',
          file,
          '-o',
          'IdentitiesOnly=yes',
          '-o',
          'BatchMode=yes',
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          'UserKnownHostsFile=/dev/null',
          `relay@${lab.hosts.server.ip}`,
          'true',
        ],
        { timeoutMs: 20_000 },
      );
    };

    before(async () => {
      // rpi7: a Debian 13 image with cloud-init, first booted (later) from the user-data enroll writes.
      lab = await startLab(['server', 'rpi9', 'rpi7', 'client'], { release: { rpi7: 'trixie' }, cloudInit: ['rpi7'] });
      dir = tempDir();
      // rpi9 is listed without ansible_host: relay-play never reaches it directly. rpi8 is never booted.
      const data = relayInventory(lab, { devices: ['rpi9', 'rpi8', 'rpi7'] }) as {
        all: { children: { devices: { hosts: Record<string, Record<string, unknown>> } } };
      };
      const hosts = data.all.children.devices.hosts;
      delete hosts.rpi9.ansible_host;
      delete hosts.rpi7.ansible_host;
      hosts.rpi8 = { ...hosts.rpi9 };
      inventory = writeYaml(dir, 'inventory.yaml', data);
      await lab.setAway('rpi9', true);
      await lab.setAway('rpi7', true);
      await setupClientLogin(lab, ['rpi9']);
      // The client and the relay exist before the device does.
      const first = await relayPlay(lab, ['apply', inventory, '--limit', 'relay:clients']);
      assert.equal(first.code, 0, show(first));
    });

    after(async () => {
      await lab?.teardown();
    });

    it('bad input changes nothing on the relay: a device not in the inventory, a terminal as output', async () => {
      const before = await relayFiles();
      const unknown = await relayPlay(lab, ['enroll', inventory, 'rpi6', '--script']);
      assert.equal(unknown.code, 1, show(unknown));
      assert.match(unknown.stderr, /rpi6 is not a device of/, show(unknown));
      // stdout a terminal (script(1) gives it a pty): refused without --force, no key printed.
      const tty = await lab.run(['script', '-qec', `node ${CLI} enroll ${inventory} rpi9 --script`, '/dev/null'], {
        timeoutMs: 60_000,
      });
      assert.notEqual(tty.code, 0, show(tty));
      assert.match(tty.stdout, /not printed on a terminal/, show(tty));
      assert.doesNotMatch(tty.stdout, /PRIVATE KEY/, show(tty));
      assert.equal(await relayFiles(), before, 'the relay changed');
    });

    it('enroll --script: port and keys recorded on the relay, the file holds the keys with mode 0600; status says awaiting first contact', async () => {
      const out = join(dir, 'firstrun.sh');
      const r = await relayPlay(lab, ['enroll', inventory, 'rpi9', '--script', '--output', out]);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, '', 'nothing on stdout with --output');
      assert.equal(statSync(out).mode & 0o777, 0o600);
      const script = readFileSync(out, 'utf8');
      assert.match(script, /BEGIN OPENSSH PRIVATE KEY/);
      const fleet = JSON.parse((await lab.exec('server', 'cat /var/lib/relay-play/fleet.json')).stdout);
      assert.ok(fleet.devices.rpi9.issued?.at, JSON.stringify(fleet));
      assert.ok(script.includes(fleet.devices.rpi9.relay_key), 'the recorded relay key is the one in the script');
      const keys = (await lab.exec('server', 'sudo cat /home/relay/.ssh/authorized_keys')).stdout.split('\n');
      const line = `restrict,port-forwarding,permitlisten="localhost:${fleet.devices.rpi9.port}",permitopen="localhost:1" ${fleet.devices.rpi9.relay_key} relay-play device rpi9`;
      assert.ok(keys.includes(line), `restricted like any device's:\n${keys.join('\n')}`);
      const { r: st, rows } = await statusRows();
      assert.equal(st.code, 3, show(st));
      assert.equal(rows.rpi9.up, false);
      assert.ok(rows.rpi9.awaiting_since, st.stdout);
      assert.match(rows.rpi9.error ?? '', /^awaiting first contact since /, st.stdout);
    });

    it('already enrolled: refused without --reissue, nothing changed', async () => {
      const before = await relayFiles();
      const r = await relayPlay(lab, ['enroll', inventory, 'rpi9', '--script', '--output', join(dir, 'again.sh')]);
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /rpi9 is already enrolled \(relay port \d+\)/, show(r));
      assert.match(r.stderr, /--reissue/, show(r));
      assert.equal(await relayFiles(), before);
    });

    it('an apply before the device boots: the device is awaiting first contact, the run does not fail for it', async () => {
      const r = await relayPlay(lab, ['apply', inventory, '--limit', 'all:!rpi8:!rpi7']);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stderr, /rpi9: awaiting first contact/, show(r));
    });

    it('the script run by hand on the fresh device: its tunnel comes up by itself; the next apply reaches it through the relay and replaces the relay key', async () => {
      const script = readFileSync(join(dir, 'firstrun.sh'), 'utf8');
      const issuedKey = /-----BEGIN OPENSSH PRIVATE KEY-----[\s\S]*?-----END OPENSSH PRIVATE KEY-----\n/.exec(
        script,
      )![0];
      const run = await lab.exec('rpi9', 'cat > /tmp/firstrun.sh && sudo sh /tmp/firstrun.sh', { input: script });
      assert.equal(run.code, 0, show(run));
      // The device's sshd now has the host key the enrolment made: the lab's own ssh must learn it too.
      lab.rereadHostKey('rpi9');
      const gone = await lab.exec('rpi9', 'test -e /tmp/firstrun.sh && echo still-there || echo deleted');
      assert.equal(gone.stdout.trim(), 'deleted', 'the script deletes itself');
      await waitFor("rpi9's tunnel up, checked on the relay", 30_000, async () => (await statusRows()).rows.rpi9.up);

      const apply = await relayPlay(lab, ['apply', inventory, '--limit', 'all:!rpi8:!rpi7'], 240_000);
      assert.equal(apply.code, 0, show(apply));
      assert.match(apply.stdout, /^rpi9\s+: ok=.* via=relay$/m, show(apply));
      assert.match(apply.stderr, /rpi9: new relay key in use; the one from its user-data is refused/, show(apply));
      const refused = await tryRelayKey(issuedKey);
      assert.equal(refused.code, 255, show(refused));
      assert.match(refused.stderr, /Permission denied/, show(refused));
      // Strict host key checking, no prompt: the pinned key is the one the enrolment made.
      assert.equal((await sshFromClient(lab, 'rpi9', 20_000)).stdout.trim(), 'rpi9');
      const again = await relayPlay(lab, ['apply', inventory, '--limit', 'all:!rpi8:!rpi7']);
      assert.equal(again.code, 0, show(again));
      assert.equal(recap(again.stdout).rpi9?.changed, 0, show(again));
      const fleet = JSON.parse((await lab.exec('server', 'cat /var/lib/relay-play/fleet.json')).stdout);
      assert.equal(fleet.devices.rpi9.issued, undefined, 'no longer awaiting');
    });

    it('cloud-init: a Debian 13 device first booted from its user-data, never reachable from the runner, comes up by itself; the next apply rotates its key and clients reach it', async (t) => {
      const out = join(dir, 'user-data');
      const r = await relayPlay(lab, ['enroll', inventory, 'rpi7', '--output', out]);
      assert.equal(r.code, 0, show(r));
      const userData = readFileSync(out, 'utf8');
      assert.equal(statSync(out).mode & 0o777, 0o600);
      const before = await statusRows();
      assert.ok(before.rows.rpi7.awaiting_since, `awaiting first contact before it booted:\n${before.r.stdout}`);

      const t0 = Date.now();
      await lab.bootFromCloudInit('rpi7', userData);
      const up = await waitFor(
        "rpi7's tunnel up, checked on the relay",
        90_000,
        async () => (await statusRows()).rows.rpi7.up,
        1_000,
      );
      t.diagnostic(
        `rpi7: booted and its tunnel up ${((Date.now() - t0) / 1000).toFixed(1)} s after boot started (${up.toFixed(1)} s after the lab saw it ready)`,
      );
      const ci = await lab.exec('rpi7', 'cloud-init status --long');
      assert.match(ci.stdout, /status: done/, show(ci));
      assert.doesNotMatch(ci.stdout, /errors: \[[^\]]/, show(ci));
      await setupClientLogin(lab, ['rpi7']);

      const apply = await relayPlay(lab, ['apply', inventory, '--limit', 'all:!rpi8'], 240_000);
      assert.equal(apply.code, 0, show(apply));
      assert.match(apply.stdout, /^rpi7\s+: ok=.* via=relay$/m, show(apply));
      assert.match(apply.stderr, /rpi7: new relay key in use; the one from its user-data is refused/, show(apply));
      const firstBoot = (parse(userData) as { write_files: { content: string }[] }).write_files[0].content;
      const issuedKey = /-----BEGIN OPENSSH PRIVATE KEY-----[\s\S]*?-----END OPENSSH PRIVATE KEY-----\n/.exec(
        firstBoot,
      )![0];
      const refused = await tryRelayKey(issuedKey);
      assert.equal(refused.code, 255, show(refused));
      assert.equal((await sshFromClient(lab, 'rpi7', 20_000)).stdout.trim(), 'rpi7');
    });

    it('an enrolment never used is revoked with remove like any device', async () => {
      const out = join(dir, 'rpi8.yaml');
      const r = await relayPlay(lab, ['enroll', inventory, 'rpi8', '--output', out]);
      assert.equal(r.code, 0, show(r));
      const cloud = readFileSync(out, 'utf8');
      assert.match(cloud, /^#cloud-config\n/);
      // The relay key travels in the first-boot script (the host key goes to cloud-init's ssh_keys).
      const firstBoot = (parse(cloud) as { write_files: { content: string }[] }).write_files[0].content;
      const key = /-----BEGIN OPENSSH PRIVATE KEY-----[\s\S]*?-----END OPENSSH PRIVATE KEY-----\n/.exec(firstBoot)![0];
      // Control: the issued key is accepted by the relay (no shell: ForceCommand /bin/false, exit 1, not 255).
      const control = await tryRelayKey(key);
      assert.notEqual(control.code, 255, show(control));
      const rm = await relayPlay(lab, ['remove', inventory, 'rpi8']);
      assert.equal(rm.code, 0, show(rm));
      assert.equal((await tryRelayKey(key)).code, 255, 'the unused enrolment is revoked');
      const fleet = JSON.parse((await lab.exec('server', 'cat /var/lib/relay-play/fleet.json')).stdout);
      assert.equal(fleet.devices.rpi8, undefined);
    });

    it('--reissue revokes the keys in use at once; a NixOS device gets its Nix instead, nothing changed', async () => {
      const current =
        'sudo ssh -F none -T -i /etc/relay-play/id_relay -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/etc/relay-play/known_hosts -o HostKeyAlias=relay-play-relay relay@' +
        lab.hosts.server.ip +
        ' true';
      assert.notEqual((await lab.exec('rpi9', current)).code, 255, 'control: the key in use works');
      const r = await relayPlay(lab, [
        'enroll',
        inventory,
        'rpi9',
        '--reissue',
        '--output',
        join(dir, 'reissued.yaml'),
      ]);
      assert.equal(r.code, 0, show(r));
      const refused = await lab.exec('rpi9', current);
      assert.equal(refused.code, 255, show(refused));
      const { rows } = await statusRows();
      assert.equal(rows.rpi9.up, false, 'its session was ended');
      assert.ok(rows.rpi9.awaiting_since);

      const before = await relayFiles();
      const nixInv = readFileSync(inventory, 'utf8').replace(/^( +)rpi8:\n/m, '$1rpi8:\n$1  os: nixos\n');
      assert.notEqual(nixInv, readFileSync(inventory, 'utf8'));
      const nix = await relayPlay(lab, [
        'enroll',
        writeYaml(dir, 'nixos.yaml', nixInv),
        'rpi8',
        '--output',
        join(dir, 'nix.yaml'),
      ]);
      assert.equal(nix.code, 1, show(nix));
      assert.match(nix.stderr, /rpi8 runs NixOS/, show(nix));
      assert.match(nix.stdout, /systemd\.services\.relay-tunnel/, show(nix));
      assert.equal(await relayFiles(), before, 'the relay changed');
    });
  },
);

describe(
  'zero-touch enrolment with two relays: a tunnel to each, reachable through either',
  { skip: avail.ok ? false : avail.why, timeout: 600_000 },
  () => {
    let lab: Lab;
    let dir: string;
    let inventory: string;
    const fleetOn = async (relay: string) =>
      JSON.parse((await lab.exec(relay, 'cat /var/lib/relay-play/fleet.json')).stdout) as {
        devices: Record<string, { port: number; relay_key?: string; relays?: string[]; first_relay?: string }>;
      };
    const listening = async (relay: string, port: number) =>
      /127\.0\.0\.1|\[::1\]/.test((await lab.exec(relay, `ss -Hltn 'sport = :${port}'`)).stdout);
    const timedSsh = async () => {
      const t0 = Date.now();
      const r = await lab.exec('client', 'ssh -o BatchMode=yes rpi6 hostname', { timeoutMs: 30_000 });
      return { r, s: (Date.now() - t0) / 1000 };
    };

    before(async () => {
      // rpi6: first booted (later) from its user-data; rpi5 is never booted.
      lab = await startLab(['ra', 'rb', 'rpi6', 'client'], { release: 'trixie', cloudInit: ['rpi6'] });
      dir = tempDir();
      const hosts = lab.inventoryHosts();
      const { ansible_host: _, ...rpi6 } = hosts.rpi6;
      inventory = writeYaml(dir, 'inventory.yaml', {
        all: {
          children: {
            relay: { hosts: { ra: hosts.ra, rb: hosts.rb } },
            devices: { hosts: { rpi6, rpi5: rpi6 } },
            clients: { hosts: { client: hosts.client } },
          },
        },
      });
      await lab.setAway('rpi6', true);
      const first = await relayPlay(lab, ['apply', inventory, '--limit', 'relay:clients']);
      assert.equal(first.code, 0, show(first));
    });

    after(async () => {
      await lab?.teardown();
    });

    it('enroll: recorded and authorized on both relays; the user-data has a unit and a pin for each', async () => {
      const out = join(dir, 'user-data');
      const r = await relayPlay(lab, ['enroll', inventory, 'rpi6', '--output', out]);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stderr, /rpi6 is enrolled on ra and rb \(relay port \d+\)/, show(r));
      const [fa, fb] = [await fleetOn('ra'), await fleetOn('rb')];
      assert.deepEqual(fa, fb, 'both relays hold the same fleet state');
      const rec = fa.devices.rpi6;
      assert.deepEqual([rec.relays, rec.first_relay], [['ra', 'rb'], 'ra']);
      for (const relay of ['ra', 'rb']) {
        const keys = (await lab.exec(relay, 'sudo cat /home/relay/.ssh/authorized_keys')).stdout;
        assert.ok(keys.includes(`permitlisten="localhost:${rec.port}"`) && keys.includes(rec.relay_key!), relay);
      }
      const firstBoot = (parse(readFileSync(out, 'utf8')) as { write_files: { content: string }[] }).write_files[0]
        .content;
      for (const f of ['relay-tunnel.service', 'relay-tunnel-rb.service', 'known_hosts ', 'known_hosts-rb '])
        assert.ok(firstBoot.includes(f), f);
      assert.match(firstBoot, /^systemctl enable --now relay-tunnel\.service relay-tunnel-rb\.service$/m);
    });

    it('first boot from the user-data: a tunnel to each relay comes up by itself, the next apply would change neither and replaces the relay key; ssh rpi6 through each relay with the other black-holed', async (t) => {
      const t0 = Date.now();
      await lab.bootFromCloudInit('rpi6', readFileSync(join(dir, 'user-data'), 'utf8'));
      const { port } = (await fleetOn('ra')).devices.rpi6;
      await waitFor(
        "rpi6's tunnels up on ra and rb",
        90_000,
        async () => (await listening('ra', port)) && (await listening('rb', port)),
        1_000,
      );
      t.diagnostic(`rpi6: both tunnels up ${seconds(Date.now() - t0)} s after its boot started`);
      await setupClientLogin(lab, ['rpi6']);

      // The tunnel task finds its units and pins as it would write them (only its rollback files, which
      // the user-data does not carry, are new). --check: a run that reaches rpi6 also replaces its relay key.
      const check = await relayPlay(lab, ['apply', inventory, '--limit', 'all:!rpi5', '--check', '--diff'], 240_000);
      assert.equal(check.code, 0, show(check));
      assert.match(check.stdout, /^rpi6\s+: ok=.* via=relay$/m, show(check));
      assert.match(check.stdout, /^\+\+\+ after: \/usr\/local\/lib\/relay-play\/tunnel-rollback/m, show(check));
      assert.doesNotMatch(
        check.stdout,
        /^[-+]{3} (before|after): \/etc\/(systemd\/system\/relay-tunnel|relay-play\/known_hosts)/m,
        show(check),
      );
      // The first apply that reaches rpi6 replaces its relay key, on both tunnels; clients learn rpi6.
      const apply = await relayPlay(lab, ['apply', inventory, '--limit', 'all:!rpi5'], 240_000);
      assert.equal(apply.code, 0, show(apply));
      assert.match(apply.stderr, /rpi6: new relay key in use; the one from its user-data is refused/, show(apply));

      for (const [down, through] of [
        ['ra', 'rb'],
        ['rb', 'ra'],
      ]) {
        // The tunnel to a relay that was black-holed a moment ago may be coming back (its unit restarts).
        const back = await waitFor(`rpi6's tunnel up on ${through}`, 60_000, () => listening(through, port), 500);
        if (back >= 1) t.diagnostic(`rpi6's tunnel to ${through}: up again ${back.toFixed(1)} s after its link`);
        await lab.setLink(down, false);
        try {
          const s = await timedSsh();
          const held = (await listening(through, port)) ? 'holds' : 'does not hold';
          assert.equal(
            s.r.stdout.trim(),
            'rpi6',
            `through ${through} (it ${held} the tunnel), ${down} black-holed\n${show(s.r)}`,
          );
          t.diagnostic(`ssh rpi6 through ${through} with ${down} black-holed: ${seconds(s.s * 1000)} s`);
        } finally {
          await lab.setLink(down, true);
        }
      }
    });

    it('a relay black-holed: enrolled on the other, exit 4 naming it; none reached: refused, nothing written', async () => {
      await lab.setLink('ra', false);
      try {
        const out = join(dir, 'rpi5.yaml');
        const r = await relayPlay(lab, ['enroll', inventory, 'rpi5', '--output', out]);
        assert.equal(r.code, 4, show(r));
        assert.match(r.stderr, /rpi5 is enrolled on rb /, show(r));
        assert.match(r.stderr, /ra was not reached: rpi5 is recorded there by the next apply that reaches it/, show(r));
        assert.ok((await fleetOn('rb')).devices.rpi5?.relay_key, 'rb recorded rpi5');
        // ra's host key is recorded: its tunnel is in the user-data already.
        const firstBoot = (parse(readFileSync(out, 'utf8')) as { write_files: { content: string }[] }).write_files[0]
          .content;
        assert.match(firstBoot, /^systemctl enable --now relay-tunnel\.service relay-tunnel-rb\.service$/m);

        await lab.setLink('rb', false);
        const none = join(dir, 'none.yaml');
        const refused = await relayPlay(lab, ['enroll', inventory, 'rpi5', '--reissue', '--output', none]);
        assert.equal(refused.code, 4, show(refused));
        assert.match(
          refused.stderr,
          /none of rpi5's relays \(ra and rb\) was reached: nothing was recorded or written/,
        );
        assert.equal(existsSync(none), false, 'no file written');
      } finally {
        await lab.setLink('ra', true);
        await lab.setLink('rb', true);
      }
    });
  },
);
