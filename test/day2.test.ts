// Day 2 of a fleet on real hosts (one lab, booted once): status, a forwarded service end to end,
// rotate, remove, apply without and with --prune, and the NixOS configuration. The relay's sshd is
// installed as Fedora, RHEL or Arch name it (unit sshd.service, no ssh.service; /usr/bin/sshd), and its
// sshd_config first lacks the Include of sshd_config.d.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keepKey as keepKeyOf, tryKey as tryKeyAt } from './integration/relay-lab.js';
import { labAvailable, startLab, type ExecResult, type Lab } from './lab/index.js';
import { recap, relayPlay, show, tempDir, waitFor, writeYaml } from './integration/util.js';

const avail = labAvailable();
const DEVICES = ['rpi1', 'rpi2', 'rpi3'];
const MARKER = 'relay-play-forward-ok';

interface Row {
  name: string;
  port: number | null;
  up: boolean;
  since: string | null;
  error: string | null;
  last_seen?: string | null;
}

describe(
  'day 2 on a lab fleet: status, forwards, rotate, remove, prune, NixOS',
  { skip: avail.ok ? false : avail.why, timeout: 900_000 },
  () => {
    let lab: Lab;
    let dir: string;
    let inventory: string;

    const inventoryData = (devices: string[], extra: Record<string, Record<string, unknown>> = {}) => {
      const hosts = lab.inventoryHosts() as Record<string, Record<string, unknown>>;
      const pick = (names: string[]) =>
        Object.fromEntries(names.map((n) => [n, { ...(hosts[n] ?? {}), ...(extra[n] ?? {}) }]));
      return {
        all: {
          children: {
            relay: { hosts: pick(['server']) },
            devices: { hosts: pick(devices) },
            clients: { hosts: pick(['client']) },
          },
        },
      };
    };
    const FORWARDS = { rpi1: { forwards: [{ name: 'web', port: 80 }] } };
    const status = async (inv = inventory) => {
      const r = await relayPlay(lab, ['status', inv, '--json'], 60_000);
      let rows: Row[] = [];
      try {
        rows = JSON.parse(r.stdout);
      } catch {
        /* shown by the caller */
      }
      return { r, rows, row: (n: string) => rows.find((x) => x.name === n) };
    };
    const sshFromClient = (device: string) =>
      lab.exec('client', `ssh -o BatchMode=yes -o ConnectTimeout=5 ${device} hostname`, { timeoutMs: 20_000 });
    const tunnelPid = async (device: string) =>
      (await lab.exec(device, 'systemctl show -p MainPID --value relay-tunnel.service')).stdout.trim();
    const fleet = async () => JSON.parse((await lab.exec('server', 'sudo cat /var/lib/relay-play/fleet.json')).stdout);
    const tryKey = (device: string, keyFile: string) => tryKeyAt(lab, device, keyFile);
    const keepKey = (device: string) => keepKeyOf(lab, device);
    /** Every one of `hosts` (and no other) is in the recap, and none changed anything. */
    const assertNothingChanged = (r: ExecResult, hosts: string[], what: string) => {
      const stats = recap(r.stdout);
      assert.deepEqual(Object.keys(stats).sort(), [...hosts].sort(), `${what}: the hosts in the recap\n${show(r)}`);
      for (const h of hosts) assert.equal(stats[h].changed, 0, `${h} ${what}: ${show(r)}`);
    };
    const listening = async (port: number) =>
      (await lab.exec('server', `ss -Hltn 'sport = :${port}'`)).stdout.trim() !== '';

    before(async () => {
      // A generous boot timeout: the machine is shared with other labs.
      lab = await startLab(['server', ...DEVICES, 'client'], { bootTimeoutMs: 300_000, sshdNamedSshd: ['server'] });
      dir = tempDir('relay-play-day2-');
      inventory = writeYaml(dir, 'inventory.yaml', inventoryData(DEVICES, FORWARDS));
      const key = await lab.exec(
        'client',
        "ssh-keygen -q -t ed25519 -N '' -f ~/.ssh/id_ed25519 && cat ~/.ssh/id_ed25519.pub",
      );
      assert.equal(key.code, 0, show(key));
      for (const d of DEVICES) {
        const r = await lab.exec(d, 'cat >> ~/.ssh/authorized_keys', { input: key.stdout });
        assert.equal(r.code, 0, show(r));
      }
      // A real TCP service on rpi1, on the device's loopback only: reachable through the relay or not at all.
      const web = await lab.exec(
        'rpi1',
        `sudo mkdir -p /srv/www && echo ${MARKER} | sudo tee /srv/www/marker.txt >/dev/null && sudo systemd-run --unit web python3 -m http.server 80 --bind 127.0.0.1 --directory /srv/www`,
      );
      assert.equal(web.code, 0, show(web));

      // A sshd_config without the Include of sshd_config.d would ignore relay-play's drop-in: refused,
      // saying which line to add; nothing of sshd's configuration or the relay account is written.
      const relayState =
        'sudo sha256sum /etc/ssh/sshd_config; ls -A /etc/ssh/sshd_config.d /etc/systemd/system | grep relay-play; getent passwd relay; true';
      const noInclude = await lab.exec(
        'server',
        "sudo sed -i 's|^Include /etc/ssh/sshd_config.d/\\*\\.conf$|# &|' /etc/ssh/sshd_config && ! grep -q '^Include' /etc/ssh/sshd_config",
      );
      assert.equal(noInclude.code, 0, show(noInclude));
      const before = await lab.exec('server', relayState);
      // (The relay and the client only: a device's new tunnel would wait its 60 s for a relay that refused.)
      const refused = await relayPlay(lab, ['apply', writeYaml(dir, 'relay-only.yaml', inventoryData([]))]);
      assert.equal(refused.code, 2, show(refused));
      const fatal = refused.stdout.split('\n').filter((l) => l.startsWith('fatal: '));
      assert.equal(fatal.length, 1, show(refused));
      assert.match(
        fatal[0],
        /^fatal: \[server\] .*sshd on server would not read \/etc\/ssh\/sshd_config\.d\/relay-play\.conf: \/etc\/ssh\/sshd_config does not include \/etc\/ssh\/sshd_config\.d/,
        show(refused),
      );
      assert.match(
        refused.stdout,
        /^ {4}Include \/etc\/ssh\/sshd_config\.d\/\*\.conf$/m,
        `offers the line to add: ${show(refused)}`,
      );
      assert.equal(
        (await lab.exec('server', relayState)).stdout,
        before.stdout,
        'sshd_config, drop-ins, units and accounts untouched',
      );
      assert.equal(
        before.stdout.split('\n').filter(Boolean).length,
        1,
        `no relay-play file and no relay user yet: ${before.stdout}`,
      );
      console.log(`# no Include in sshd_config: ${fatal[0]}`);
      const fixed = await lab.exec(
        'server',
        "sudo sed -i 's|^# \\(Include /etc/ssh/sshd_config.d/\\*\\.conf\\)$|\\1|' /etc/ssh/sshd_config && grep -q '^Include' /etc/ssh/sshd_config",
      );
      assert.equal(fixed.code, 0, show(fixed));

      const r = await relayPlay(lab, ['apply', inventory]);
      assert.equal(r.code, 0, show(r));
      for (const d of DEVICES)
        await waitFor(`ssh ${d}`, 30_000, async () => (await sshFromClient(d)).stdout.trim() === d);
    });

    after(async () => {
      await lab?.teardown();
    });

    it('a relay whose sshd is sshd.service at /usr/bin/sshd: found, the rules proven, reloaded through that unit', async () => {
      const r = await lab.exec(
        'server',
        'systemctl show -p LoadState --value ssh.service; command -v sshd; sudo journalctl -u sshd.service --no-pager -o cat | grep -c "^Reloaded"; systemctl show -p After --value relay-play-reaper.service',
      );
      const [sshLoad, bin, reloads, after] = r.stdout.trim().split('\n');
      assert.equal(sshLoad, 'not-found', 'there is no ssh.service on this relay');
      assert.equal(bin, '/usr/bin/sshd');
      assert.ok(Number(reloads) >= 1, `sshd.service was reloaded: ${show(r)}`);
      assert.match(after, /\bsshd\.service\b/, 'the reaper starts after sshd.service');
      const again = await relayPlay(lab, ['apply', inventory, '-v']);
      assert.equal(again.code, 0, show(again));
      assert.match(
        again.stdout,
        /^ok: \[server\] relay-user : sshd found.*\n.*OpenSSH_9\.2 at \/usr\/bin\/sshd, unit sshd\.service/m,
        show(again),
      );
      assert.match(again.stdout, /^ok: \[server\] relay-user : sshd applies the relay user's rules/m, show(again));
    });

    it('status: every tunnel up, exit 0, one row per device with port and since', async () => {
      const t0 = Date.now();
      const { r, rows } = await status();
      const took = (Date.now() - t0) / 1000;
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(
        rows.map((x) => [x.name, x.up]),
        DEVICES.map((d) => [d, true]),
      );
      const f = await fleet();
      for (const x of rows) {
        assert.equal(x.port, f.devices[x.name].port);
        assert.ok(x.since && Date.now() - Date.parse(x.since) < 600_000, `since: ${x.since}`);
        assert.equal(x.error, null);
      }
      console.log(`# status of ${rows.length} devices took ${took.toFixed(2)} s`);
      const table = await relayPlay(lab, ['status', inventory]);
      assert.equal(table.code, 0, show(table));
      assert.match(table.stdout, /^DEVICE +PORT +TUNNEL +UP FOR +ERROR$/m, show(table));
      assert.match(table.stdout, /^rpi1 +\d+ \+\d+ +up +\d/m, show(table));
    });

    it('a forward serves a real TCP service end to end: ssh -N -f rpi1-web on the client', async () => {
      const f = await fleet();
      const port = f.devices.rpi1.forwards.web.relay_port;
      assert.ok(port > f.devices.rpi1.port, JSON.stringify(f));
      const cfg = await lab.exec('client', 'cat ~/.ssh/config');
      assert.match(
        cfg.stdout,
        new RegExp(`Host rpi1-web\\n(.*\\n)*? +LocalForward localhost:${port} localhost:${port}\\n`),
        cfg.stdout,
      );
      const fw = await lab.exec('client', 'ssh -o BatchMode=yes -N -f rpi1-web', { timeoutMs: 20_000 });
      assert.equal(fw.code, 0, show(fw));
      const get = await lab.exec(
        'client',
        `python3 -c "import urllib.request; print(urllib.request.urlopen('http://localhost:${port}/marker.txt', timeout=10).read().decode().strip())"`,
        { timeoutMs: 20_000 },
      );
      assert.equal(get.stdout.trim(), MARKER, show(get));
      // The device key may listen on its forward's port, and nowhere else.
      const keys = await lab.exec('server', 'sudo cat /home/relay/.ssh/authorized_keys');
      assert.match(
        keys.stdout,
        new RegExp(
          `permitlisten="localhost:${f.devices.rpi1.port}",permitlisten="localhost:${port}",permitopen="localhost:1" ssh-ed25519 \\S+ relay-play device rpi1`,
        ),
      );
    });

    it('status shows a stopped tunnel as down within 15 s, with the reason, and exit 3', async () => {
      const stop = await lab.exec('rpi2', 'sudo systemctl stop relay-tunnel.service');
      assert.equal(stop.code, 0, show(stop));
      let last: Awaited<ReturnType<typeof status>> | undefined;
      const secs = await waitFor('status to show rpi2 down', 15_000, async () => {
        last = await status();
        return last.row('rpi2')?.up === false;
      });
      console.log(`# rpi2 shown down ${secs.toFixed(1)} s after its tunnel was stopped`);
      const { r, row } = last!;
      assert.equal(r.code, 3, show(r));
      const rpi2 = row('rpi2')!;
      assert.deepEqual(Object.keys(rpi2).slice(0, 5), ['name', 'port', 'up', 'since', 'error']);
      assert.equal(rpi2.since, null);
      assert.equal(typeof rpi2.port, 'number');
      assert.match(rpi2.error!, /relay-tunnel\.service is inactive/, show(r));
      assert.equal(row('rpi1')!.up, true);
      const table = await relayPlay(lab, ['status', inventory]);
      assert.equal(table.code, 3);
      // LAST SEEN: from the relay's tunnel watcher (docs/monitoring.md), which saw it up seconds ago.
      assert.match(table.stdout, /^DEVICE +PORT +TUNNEL +UP FOR +LAST SEEN +ERROR$/m, show(table));
      assert.match(table.stdout, /^rpi2 +\d+ +down +- +\d+s ago +relay-tunnel\.service is inactive/m, show(table));
      assert.ok(rpi2.last_seen && Date.now() - Date.parse(rpi2.last_seen) < 60_000, `last_seen: ${rpi2.last_seen}`);
      await lab.exec('rpi2', 'sudo systemctl start relay-tunnel.service');
      await waitFor('rpi2 up again', 30_000, async () => (await status()).row('rpi2')?.up === true);
    });

    it('units disabled by hand (rpi1 stopped too, rpi2 still running): one apply enables them, the next changes nothing', async () => {
      const off1 = await lab.exec(
        'rpi1',
        'sudo systemctl disable --now relay-tunnel.service relay-play-rollback.service',
      );
      const off2 = await lab.exec('rpi2', 'sudo systemctl disable relay-tunnel.service');
      assert.equal(off1.code + off2.code, 0, show(off1) + show(off2));
      const fix = await relayPlay(lab, ['apply', inventory]);
      assert.equal(fix.code, 0, show(fix));
      assert.equal(recap(fix.stdout).rpi1?.changed, 1, show(fix));
      assert.equal(recap(fix.stdout).rpi2?.changed, 1, show(fix));
      // systemd itself says enabled (what the next run reads), and that run finds nothing to do.
      for (const d of ['rpi1', 'rpi2']) {
        const units = await lab.exec(
          d,
          'systemctl show -p UnitFileState --value relay-tunnel.service relay-play-rollback.service; systemctl is-active relay-tunnel.service',
        );
        assert.deepEqual(
          units.stdout.split('\n').filter(Boolean),
          ['enabled', 'enabled', 'active'],
          `${d}: ${show(units)}`,
        );
      }
      const again = await relayPlay(lab, ['apply', inventory]);
      assertNothingChanged(again, ['server', 'client', ...DEVICES], 'the apply after');
    });

    it('rotate: the old key is refused afterwards and the tunnel is up with the new one; others untouched', async () => {
      const oldKey = await keepKey('rpi2');
      const before = (await fleet()).devices.rpi2.relay_key;
      const pids = { rpi1: await tunnelPid('rpi1'), rpi3: await tunnelPid('rpi3'), rpi2: await tunnelPid('rpi2') };
      assert.equal((await tryKey('rpi2', oldKey)).code, 1, 'the old key works before rotating');
      const t0 = Date.now();
      const r = await relayPlay(lab, ['rotate', inventory, 'rpi2']);
      assert.equal(r.code, 0, show(r));
      console.log(`# rotate rpi2 took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      assert.match(r.stderr, /rpi2: new relay key in use; the old one is refused/, show(r));
      const after = await fleet();
      assert.notEqual(after.devices.rpi2.relay_key, before);
      assert.equal(after.devices.rpi2.next_relay_key, undefined);
      const pub = await lab.exec(
        'rpi2',
        'cut -d" " -f1,2 /etc/relay-play/id_relay.pub; sudo test ! -e /etc/relay-play/id_relay.new && echo no-new',
      );
      assert.equal(pub.stdout, `${after.devices.rpi2.relay_key}\nno-new\n`);
      const refused = await tryKey('rpi2', oldKey);
      assert.equal(refused.code, 255, `old key: ${show(refused)}`);
      assert.match(refused.stderr, /Permission denied/);
      assert.equal((await tryKey('rpi2', '/etc/relay-play/id_relay')).code, 1, 'the new key is accepted');
      await waitFor('rpi2 tunnel up with the new key', 30_000, async () => (await status()).row('rpi2')?.up === true);
      assert.equal((await sshFromClient('rpi2')).stdout.trim(), 'rpi2');
      assert.notEqual(await tunnelPid('rpi2'), pids.rpi2, 'rpi2 restarted its tunnel');
      assert.equal(await tunnelPid('rpi1'), pids.rpi1, 'rpi1 untouched');
      assert.equal(await tunnelPid('rpi3'), pids.rpi3, 'rpi3 untouched');
      const again = await relayPlay(lab, ['apply', inventory]);
      assert.equal(again.code, 0, show(again));
      assertNothingChanged(again, ['server', ...DEVICES, 'client'], 'after rotate');
    });

    it('remove rpi3: its key is refused at once (tried from rpi3), its tunnel dropped, clients forget it; the others are untouched', async () => {
      const oldKey = await keepKey('rpi3');
      const port = (await fleet()).devices.rpi3.port;
      const pids = { rpi1: await tunnelPid('rpi1'), rpi2: await tunnelPid('rpi2') };
      assert.ok(await listening(port));
      const r = await relayPlay(lab, ['remove', inventory, 'rpi3']);
      assert.equal(r.code, 0, show(r));
      const stats = recap(r.stdout);
      assert.ok(stats.rpi3.changed > 0 && stats.server.changed > 0 && stats.client.changed > 0, show(r));
      for (const d of ['rpi1', 'rpi2']) assert.equal(stats[d]?.changed ?? 0, 0, `${d}: ${show(r)}`);
      assert.equal(await listening(port), false, 'the relay ended the tunnel');
      const refused = await tryKey('rpi3', oldKey);
      assert.equal(refused.code, 255, show(refused));
      assert.match(refused.stderr, /Permission denied/);
      const dev = await lab.exec(
        'rpi3',
        'systemctl is-enabled relay-tunnel.service; systemctl is-active relay-tunnel.service; test -e /etc/relay-play && echo key-left || echo key-gone',
      );
      assert.match(dev.stdout, /inactive\nkey-gone/, show(dev));
      const f = await fleet();
      assert.equal(f.devices.rpi3, undefined);
      const cfg = await lab.exec('client', 'cat ~/.ssh/config ~/.ssh/known_hosts.relay-play');
      assert.doesNotMatch(cfg.stdout, /rpi3/);
      assert.equal(await tunnelPid('rpi1'), pids.rpi1);
      assert.equal(await tunnelPid('rpi2'), pids.rpi2);
      for (const d of ['rpi1', 'rpi2']) assert.equal((await sshFromClient(d)).stdout.trim(), d);
      const without = writeYaml(dir, 'without-rpi3.yaml', inventoryData(['rpi1', 'rpi2'], FORWARDS));
      const again = await relayPlay(lab, ['apply', without]);
      assert.equal(again.code, 0, show(again));
      assertNothingChanged(again, ['server', 'rpi1', 'rpi2', 'client'], 'after remove');
      inventory = without;
    });

    it('apply without --prune keeps (and warns about) a device left out of the inventory; --prune removes it', async () => {
      const only1 = writeYaml(dir, 'only-rpi1.yaml', inventoryData(['rpi1'], FORWARDS));
      const keep = await relayPlay(lab, ['apply', only1]);
      assert.equal(keep.code, 0, show(keep));
      assert.match(
        keep.stderr,
        /warning: rpi2 is recorded on the relay but not in .*only-rpi1\.yaml: kept/,
        show(keep),
      );
      assertNothingChanged(keep, ['server', 'rpi1', 'client'], 'without --prune');
      assert.ok((await fleet()).devices.rpi2, 'still recorded');
      assert.equal((await status()).row('rpi2')?.up, true, 'its tunnel still up');

      const port = (await fleet()).devices.rpi2.port;
      const oldKey = await keepKey('rpi2');
      const prune = await relayPlay(lab, ['apply', only1, '--prune']);
      assert.equal(prune.code, 0, show(prune));
      assert.match(prune.stderr, /rpi2 removed from the relay/, show(prune));
      assert.equal((await fleet()).devices.rpi2, undefined);
      assert.equal(await listening(port), false, 'its session ended');
      assert.equal((await tryKey('rpi2', oldKey)).code, 255);
      // Back in the inventory: enrolled again, same key (never replaced on the device).
      const back = await relayPlay(lab, ['apply', inventory]);
      assert.equal(back.code, 0, show(back));
      await waitFor('rpi2 back', 30_000, async () => (await sshFromClient('rpi2')).stdout.trim() === 'rpi2');
    });

    it('remove of a device that cannot be reached: revoked on the relay all the same, reported, exit 0', async () => {
      const port = (await fleet()).devices.rpi2.port;
      const oldKey = await keepKey('rpi2');
      // rpi2 offline: at an unused lab address, and its tunnel down (through which relay-play would
      // otherwise reach it). relay-play cannot reach it; the relay can still refuse it.
      const stop = await lab.exec('rpi2', 'sudo systemctl stop relay-tunnel.service');
      assert.equal(stop.code, 0, show(stop));
      const away = writeYaml(
        dir,
        'rpi2-away.yaml',
        inventoryData(['rpi1', 'rpi2'], { ...FORWARDS, rpi2: { ansible_host: '198.18.0.251' } }),
      );
      const r = await relayPlay(lab, ['remove', away, 'rpi2']);
      assert.equal(r.code, 0, show(r));
      assert.equal(recap(r.stdout).rpi2?.unreachable, 1, show(r));
      assert.match(r.stderr, /rpi2 could not be reached: its relay-tunnel service is still installed there/, show(r));
      assert.equal((await fleet()).devices.rpi2, undefined);
      assert.equal(await listening(port), false);
      assert.equal((await tryKey('rpi2', oldKey)).code, 255);
      const back = await relayPlay(lab, ['apply', inventory]);
      assert.equal(back.code, 0, show(back));
      await waitFor('rpi2 back', 30_000, async () => (await sshFromClient('rpi2')).stdout.trim() === 'rpi2');
    });

    it('NixOS: apply prints the Nix (no changes on the host), relay-play nixos writes it; it parses and has the right keys and ports', async () => {
      const keys = mkdtempSync(join(tmpdir(), 'relay-play-nixkeys-'));
      for (const k of ['relay', 'host'])
        spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `nix1 ${k}`, '-f', join(keys, k)]);
      const relayPub = readFileSync(join(keys, 'relay.pub'), 'utf8').trim();
      const hostPub = readFileSync(join(keys, 'host.pub'), 'utf8').trim();
      // nix1's address is an unused lab address: apply must never try to reach it.
      const withNix = writeYaml(
        dir,
        'with-nixos.yaml',
        inventoryData(['rpi1', 'rpi2', 'nix1'], {
          ...FORWARDS,
          nix1: {
            ansible_host: '198.18.0.250',
            ansible_user: 'admin',
            os: 'nixos',
            relay_public_key: relayPub,
            ssh_host_key: hostPub,
            forwards: [{ name: 'web', port: 8080 }],
          },
        }),
      );
      const r = await relayPlay(lab, ['apply', withNix]);
      assert.equal(r.code, 0, show(r));
      assert.equal(recap(r.stdout).nix1, undefined, 'no play ran on nix1');
      assert.match(r.stdout, /# ---- NixOS host nix1: relay-play changed nothing there/, show(r));
      const f = await fleet();
      const port = f.devices.nix1.port;
      const fwPort = f.devices.nix1.forwards.web.relay_port;
      const authorized = await lab.exec('server', 'sudo cat /home/relay/.ssh/authorized_keys');
      assert.ok(
        authorized.stdout.includes(
          `permitlisten="localhost:${port}",permitlisten="localhost:${fwPort}",permitopen="localhost:1" ${relayPub.split(' ').slice(0, 2).join(' ')} relay-play device nix1`,
        ),
        authorized.stdout,
      );

      const dev = await relayPlay(lab, ['nixos', withNix, 'nix1']);
      assert.equal(dev.code, 0, show(dev));
      assert.ok(r.stdout.includes(dev.stdout), 'apply printed the same Nix');
      const relayHostKey = (
        await lab.exec('server', 'cut -d" " -f1,2 /etc/ssh/ssh_host_ed25519_key.pub')
      ).stdout.trim();
      assert.match(dev.stdout, /systemd\.services\.relay-tunnel = \{/);
      assert.ok(
        dev.stdout.includes(
          `-R localhost:${port}:localhost:22 -R localhost:${fwPort}:localhost:8080 relay@${lab.hosts.server.ip}";`,
        ),
        dev.stdout,
      );
      assert.ok(dev.stdout.includes(`"relay-play-relay ${relayHostKey}\\n"`), dev.stdout);
      assert.match(dev.stdout, /Restart = "always";/);
      const rel = await relayPlay(lab, ['nixos', withNix, 'server']);
      assert.equal(rel.code, 0, show(rel));
      assert.match(rel.stdout, /users\.users\.relay = \{/);
      // The reaper too (a NixOS relay gets a moved device back as fast), with the script this relay runs.
      assert.match(rel.stdout, /systemd\.services\.relay-play-reaper = \{/);
      const reaper = (await lab.exec('server', 'grep -v "^#" /usr/local/lib/relay-play/reap-stale-tunnels')).stdout
        .trim()
        .split('\n');
      for (const line of reaper)
        assert.ok(rel.stdout.includes(line), `the NixOS reaper has the line ${JSON.stringify(line)}`);
      assert.ok(
        rel.stdout.includes(
          `permitlisten=\\"localhost:${port}\\",permitlisten=\\"localhost:${fwPort}\\",permitopen=\\"localhost:1\\" ${relayPub.split(' ').slice(0, 2).join(' ')} relay-play device nix1"`,
        ),
        rel.stdout,
      );
      assert.match(rel.stdout, new RegExp(`PermitListen .*localhost:${port} localhost:${fwPort}`));

      // The test's name says it parses: without nix-instantiate it cannot tell, so that is a failure.
      const nix = spawnSync('nix-instantiate', ['--version']);
      assert.equal(nix.status, 0, 'nix-instantiate is needed to check the Nix (scripts/install-deps installs nix-bin)');
      for (const text of [dev.stdout, rel.stdout]) {
        const p = spawnSync('nix-instantiate', ['--parse', '-'], { input: text, encoding: 'utf8' });
        assert.equal(p.status, 0, `nix-instantiate --parse: ${p.stderr}\n${text}`);
      }
      const broken = spawnSync('nix-instantiate', ['--parse', '-'], {
        input: dev.stdout.trimEnd().slice(0, -1),
        encoding: 'utf8',
      });
      assert.notEqual(
        broken.status,
        0,
        'control: nix-instantiate --parse refuses the same Nix without its last character',
      );

      // Taking it out again: the relay forgets it; relay-play still never touches the host.
      const rm: ExecResult = await relayPlay(lab, ['remove', withNix, 'nix1']);
      assert.equal(rm.code, 0, show(rm));
      assert.match(rm.stderr, /nix1 runs NixOS: delete systemd\.services\.relay-tunnel/);
      assert.equal((await fleet()).devices.nix1, undefined);
      const { r: st } = await status();
      assert.equal(st.code, 0, show(st));
    });
  },
);
