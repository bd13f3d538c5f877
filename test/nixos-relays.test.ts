// NixOS hosts among two relays (issue 26), on lab hosts. rpi1 stands for a NixOS device: the inventory
// says `os: nixos`, so apply never logs in there; the test itself starts the two services of the printed
// Nix on it (their ExecStart and pinned known_hosts, as NixOS would), and `ssh rpi1` from the client works
// through either relay. Then rb is said to run NixOS: its printed Nix lets in the keys the Debian rb
// has, and `relay-play nixos` with ra black-holed still prints it, naming ra (exit 4).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { labAvailable, startLab, type Lab } from './lab/index.js';
import { setupClientLogin, waitReachable } from './integration/relay-lab.js';
import { recap, relayPlay, show, tempDir, writeYaml } from './integration/util.js';

const avail = labAvailable();

/** The value of a Nix double-quoted string as nixString (src/relay/nixos.ts) writes it. */
const unNix = (s: string) =>
  s.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c as 'n' | 'r' | 't'] ?? c);

function assertParses(text: string): void {
  const nix = spawnSync('nix-instantiate', ['--version']);
  assert.equal(nix.status, 0, 'nix-instantiate is needed to check the Nix (scripts/install-deps installs nix-bin)');
  const p = spawnSync('nix-instantiate', ['--parse', '-'], { input: text, encoding: 'utf8' });
  assert.equal(p.status, 0, `nix-instantiate --parse: ${p.stderr}\n${text}`);
}

describe('NixOS hosts among two relays', { skip: avail.ok ? false : avail.why, timeout: 900_000 }, () => {
  let lab: Lab;
  let dir: string;
  let relayPub: string;
  let hostPub: string;
  const inventory = (nixosRelays: string[] = []) => {
    const hosts = lab.inventoryHosts() as Record<string, Record<string, unknown>>;
    const relay = (r: string) => ({ ...hosts[r], ...(nixosRelays.includes(r) ? { os: 'nixos' } : {}) });
    return writeYaml(dir, `inventory-${nixosRelays.join('-') || 'debian'}.yaml`, {
      all: {
        children: {
          relay: { hosts: { ra: relay('ra'), rb: relay('rb') } },
          devices: {
            hosts: {
              rpi1: { ...hosts.rpi1, os: 'nixos', relay_public_key: relayPub, ssh_host_key: hostPub },
            },
          },
          clients: { hosts: { client: hosts.client } },
        },
      },
    });
  };
  /** The section apply printed for `host`, without its heading line. */
  const section = (stdout: string, host: string) => {
    const at = stdout.indexOf(`# ---- NixOS host ${host}:`);
    assert.ok(at >= 0, `apply printed ${host}'s Nix\n${stdout}`);
    const rest = stdout.slice(stdout.indexOf('\n', at) + 1);
    const end = rest.indexOf('\n# ---- NixOS host ');
    return end < 0 ? rest : rest.slice(0, end);
  };
  const port = async () =>
    (
      JSON.parse((await lab.exec('ra', 'cat /var/lib/relay-play/fleet.json')).stdout) as {
        devices: Record<string, { port: number }>;
      }
    ).devices.rpi1.port;

  before(async () => {
    lab = await startLab(['ra', 'rb', 'rpi1', 'client'], { bootTimeoutMs: 300_000 });
    dir = tempDir('relay-play-nixos-relays-');
    await setupClientLogin(lab, ['rpi1']);
    // The device's keys, made on it as the printed Nix tells a NixOS user to.
    const keys = await lab.exec(
      'rpi1',
      "sudo useradd --system --user-group --no-create-home relay-tunnel && sudo install -d -m 0755 /etc/relay-play && sudo ssh-keygen -q -t ed25519 -N '' -C 'relay-access rpi1' -f /etc/relay-play/id_relay && sudo chown relay-tunnel /etc/relay-play/id_relay && cat /etc/relay-play/id_relay.pub /etc/ssh/ssh_host_ed25519_key.pub",
    );
    assert.equal(keys.code, 0, show(keys));
    [relayPub, hostPub] = keys.stdout.trim().split('\n');
  });

  after(async () => {
    await lab?.teardown();
  });

  let deviceNix = '';

  it('apply prints a NixOS device a service per relay (nothing changed there); relay-play nixos the same; it parses', async () => {
    const inv = inventory();
    const r = await relayPlay(lab, ['apply', inv], 300_000);
    assert.equal(r.code, 0, show(r));
    assert.equal(recap(r.stdout).rpi1, undefined, 'no play ran on rpi1');
    const units = await lab.exec('rpi1', 'ls /etc/systemd/system | grep relay; ls /etc/relay-play');
    assert.equal(units.stdout.trim(), 'id_relay\nid_relay.pub', `relay-play wrote nothing on rpi1\n${show(units)}`);
    deviceNix = section(r.stdout, 'rpi1');
    const nixos = await relayPlay(lab, ['nixos', inv, 'rpi1']);
    assert.equal(nixos.code, 0, show(nixos));
    assert.equal(nixos.stdout, deviceNix, 'relay-play nixos prints what apply printed');
    assert.match(deviceNix, /\n {2}systemd\.services\.relay-tunnel = \{\n/);
    assert.match(deviceNix, /\n {2}systemd\.services\.relay-tunnel-rb = \{\n/);
    const p = await port();
    for (const relay of ['ra', 'rb']) {
      const key = (await lab.exec(relay, 'cut -d" " -f1,2 /etc/ssh/ssh_host_ed25519_key.pub')).stdout.trim();
      const pin = relay === 'ra' ? 'known_hosts' : 'known_hosts-rb';
      assert.ok(deviceNix.includes(`environment.etc."relay-play/${pin}".text = "relay-play-relay ${key}\\n";`));
      assert.ok(
        deviceNix.includes(`-R localhost:${p}:localhost:22 relay@${lab.hosts[relay].ip}";`),
        `the same port to ${relay}\n${deviceNix}`,
      );
      const keys = await lab.exec(relay, 'sudo cat /home/relay/.ssh/authorized_keys');
      assert.ok(
        keys.stdout.includes(
          `permitlisten="localhost:${p}",permitopen="localhost:1" ${relayPub.split(' ').slice(0, 2).join(' ')} relay-play device rpi1`,
        ),
        `${relay} lets in rpi1's key on its port\n${keys.stdout}`,
      );
    }
    assertParses(deviceNix);
  });

  it('the printed services, run as NixOS would: ssh rpi1 through ra, and through rb with ra black-holed', async () => {
    assert.ok(deviceNix, 'the Nix of the test before');
    const pins = [...deviceNix.matchAll(/environment\.etc\."relay-play\/(known_hosts[^"]*)"\.text = "(.*)";/g)];
    const services = [
      ...deviceNix.matchAll(/systemd\.services\.(\S+) = \{[\s\S]*?ExecStart = "\$\{pkgs\.openssh\}\/bin\/ssh (.*)";/g),
    ];
    assert.equal(pins.length, 2);
    assert.deepEqual(
      services.map((s) => s[1]),
      ['relay-tunnel', 'relay-tunnel-rb'],
    );
    for (const [, file, text] of pins) {
      const w = await lab.exec('rpi1', `sudo tee /etc/relay-play/${file} >/dev/null`, { input: unNix(text) });
      assert.equal(w.code, 0, show(w));
    }
    for (const [, name, args] of services) {
      const s = await lab.exec(
        'rpi1',
        `sudo systemd-run --unit ${name} -p User=relay-tunnel -p Restart=always -p RestartSec=1 /usr/bin/ssh ${unNix(args)}`,
      );
      assert.equal(s.code, 0, show(s));
    }
    await waitReachable(lab, ['rpi1'], 60_000, 'rpi1 through its printed tunnels');
    const p = await port();
    for (const relay of ['ra', 'rb']) {
      const l = await lab.exec(relay, `ss -Hltn 'sport = :${p}'`);
      assert.match(l.stdout, /127\.0\.0\.1|\[::1\]/, `${relay} holds rpi1's tunnel\n${show(l)}`);
    }
    await lab.setLink('ra', false);
    try {
      await waitReachable(lab, ['rpi1'], 30_000, 'rpi1 through rb alone');
    } finally {
      await lab.setLink('ra', true);
    }
  });

  it('rb said to run NixOS: its Nix lets in the keys the Debian rb has; with ra black-holed, printed all the same, exit 4', async () => {
    const inv = inventory(['rb']);
    const dropIn = 'sudo sha256sum /etc/ssh/sshd_config.d/relay-play.conf /home/relay/.ssh/authorized_keys';
    const before = await lab.exec('rb', dropIn);
    const r = await relayPlay(lab, ['apply', inv], 300_000);
    assert.equal(r.code, 0, show(r));
    assert.equal((await lab.exec('rb', dropIn)).stdout, before.stdout, "rb's sshd and keys untouched");
    const rbNix = section(r.stdout, 'rb');
    assert.match(rbNix, /^# relay-play: NixOS configuration of the relay rb /m);
    const keys = (await lab.exec('rb', 'sudo grep -v "^#" /home/relay/.ssh/authorized_keys')).stdout.trim().split('\n');
    assert.equal(keys.length, 2, 'rpi1 and the client');
    for (const line of keys) assert.ok(rbNix.includes(JSON.stringify(line)), `${line}\n${rbNix}`);
    assertParses(rbNix);
    const nixos = await relayPlay(lab, ['nixos', inv, 'rb']);
    assert.equal(nixos.code, 0, show(nixos));
    assert.equal(nixos.stdout, rbNix);

    await lab.setLink('ra', false);
    try {
      const partial = await relayPlay(lab, ['nixos', inv, 'rb']);
      assert.equal(partial.code, 4, show(partial));
      assert.match(partial.stderr, /the relay ra is unreachable/, show(partial));
      assert.equal(partial.stdout, rbNix, "rb's Nix from rb alone");
      const none = await relayPlay(lab, ['nixos', inv, 'ra']);
      assert.equal(none.code, 4, show(none));
      assert.equal(none.stdout, '', 'no Nix for a relay that cannot be read');
    } finally {
      await lab.setLink('ra', true);
    }
  });
});
