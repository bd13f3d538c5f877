// What `relay-play enroll` writes: a cloud-config and a POSIX script that carry the keys intact, parse,
// and can't be broken by what they carry; with several relays, a tunnel to each.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { parse } from 'yaml';
import { parseInventory } from '../../src/engine/inventory/index.js';
import { renderHandlebars } from '../../src/engine/template/handlebars.js';
import { bundledRolesDir } from '../../src/relay/app.js';
import { cloudConfig, firstBootScript, firstBootTunnels, type FirstBoot } from '../../src/relay/enroll.js';
import { prepareRelayInventory } from '../../src/relay/inventory.js';
import { relay_fleet } from '../../src/relay/modules/relay_fleet.js';
import { relay_tunnel } from '../../src/relay/modules/relay_tunnel.js';
import { cannedCtx, planRaw, planWith } from './modules/fake-host.js';
import { fakeKey } from './keys.js';
import { relayTunnelRead } from './relay-tunnel-read.js';

const pair = (comment: string) => {
  const k = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  return { private: k.private, public: k.public.trim() };
};

const tunnel = (text: string): FirstBoot['tunnels'][number] => ({
  relay: 'server',
  unit: 'relay-tunnel.service',
  suffix: '',
  pin: 'relay-play-relay ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb0',
  text,
});

const boot = (over: Partial<FirstBoot> = {}): FirstBoot => ({
  device: 'rpi9',
  port: 22229,
  tunnelUser: 'relay-tunnel',
  relayKey: pair('relay-access rpi9'),
  hostKey: pair('root@rpi9'),
  tunnels: [
    tunnel(
      "[Service]\nExecStart=/usr/bin/ssh -R localhost:22229:localhost:22 relay@203.0.113.5\n# 'quotes' $HOME `x` \\ %h\n",
    ),
  ],
  login: { user: 'admin', key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOZ' },
  ...over,
});

const syntaxOk = (script: string) => spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });

describe('enroll output', () => {
  it('the script is valid sh and carries every key and the unit byte for byte (quoted here-documents)', () => {
    const b = boot();
    const script = firstBootScript(b, { withHostKey: true });
    const check = syntaxOk(script);
    assert.equal(check.status, 0, check.stderr);
    for (const text of [b.relayKey.private, b.hostKey.private, b.tunnels[0].text])
      assert.ok(script.includes(text), text.slice(0, 40));
    assert.match(script, /<<'RELAY_PLAY_[0-9a-f]{12}'\n/);
  });

  it('a here-document marker never occurs in what it carries', () => {
    // A unit whose text would end a fixed marker early: the marker is chosen not to occur.
    const script = firstBootScript(boot({ tunnels: [tunnel('RELAY_PLAY_\nEOF\n')] }), { withHostKey: false });
    assert.equal(syntaxOk(script).status, 0);
    const markers = [...script.matchAll(/<<'(RELAY_PLAY_[0-9a-f]+)'/g)].map((m) => m[1]);
    for (const m of markers) assert.equal(script.split('\n').filter((l) => l === m).length, 1, m);
  });

  it('without --script: a cloud-config whose host key goes to cloud-init and whose script has no host key', () => {
    const b = boot();
    const text = cloudConfig(b);
    assert.match(text, /^#cloud-config\n/);
    const doc = parse(text) as {
      ssh_keys: Record<string, string>;
      write_files: { path: string; permissions: string; content: string }[];
      runcmd: string[][];
    };
    assert.equal(doc.ssh_keys.ed25519_private, b.hostKey.private);
    assert.equal(doc.ssh_keys.ed25519_public, b.hostKey.public);
    assert.equal(doc.write_files[0].permissions, '0700');
    assert.ok(doc.write_files[0].content.includes(b.relayKey.private));
    assert.ok(!doc.write_files[0].content.includes(b.hostKey.private));
    assert.equal(syntaxOk(doc.write_files[0].content).status, 0);
    assert.deepEqual(doc.runcmd, [['sh', doc.write_files[0].path]]);
  });
});

// Several relays: the user-data of a device enrolled with two relays in the inventory, from the facts
// relay_fleet hands it, carries a unit and a pinned host key per relay — the files the role's tunnel task
// would write, so the first apply finds nothing to change in them.
const KEY = fakeKey;

const TWO_RELAYS = `all:
  vars: {ansible_user: admin}
  children:
    relay:
      hosts:
        ra: {ansible_host: 198.18.0.10}
        rb: {ansible_host: 198.18.0.20, relay_ssh_port: 2222}
    devices:
      hosts:
        rpi9: {}
    clients: {hosts: {client: {ansible_host: 198.18.0.14}}}
`;

/** rpi9's variables after the enroll playbook on ra: rb's copy of the fleet state read (or not), as relay_fleet sees it. */
async function enrolledFacts(rbCopy: boolean): Promise<Record<string, unknown>> {
  const inv = parseInventory(TWO_RELAYS, 'inv.yaml');
  prepareRelayInventory(inv);
  const hostvars = Object.fromEntries([...inv.hosts].map(([n, h]) => [n, { ...h.vars }]));
  // What `relay-play enroll` sets before its run.
  Object.assign(hostvars.rpi9, {
    relay_public_key: KEY(1),
    ssh_host_key: KEY(5),
    relay_issued_at: '2026-01-01T00:00:00.000Z',
  });
  if (rbCopy) hostvars.rb.relay_copy = { state: '', host_key: KEY(20) };
  const plan = await planRaw(
    relay_fleet,
    {
      devices: ['rpi9'],
      clients: ['client'],
      hostvars,
      port_base: 22221,
      state_file: '/var/lib/relay-play/fleet.json',
      host_key: '/etc/ssh/ssh_host_ed25519_key.pub',
      relays: ['ra', 'rb'],
    },
    cannedCtx(`${KEY(10)} root@ra\n---relay-play---\n`, { host: 'ra' }),
  );
  assert.equal(plan.failed, undefined, plan.failed);
  return { ...hostvars.rpi9, ...plan.facts!.rpi9 };
}

/** The files a first-boot script puts in place: `put PATH MODE OWNER <<'MARKER'` … MARKER. */
function putFiles(script: string): Map<string, { mode: string; owner: string; content: string }> {
  const files = new Map<string, { mode: string; owner: string; content: string }>();
  for (const m of script.matchAll(/^put (\S+) (\d+) (\S+) <<'(RELAY_PLAY_[0-9a-f]+)'\n([\s\S]*?)^\4$/gm))
    files.set(m[1], { mode: m[2], owner: m[3], content: m[5] });
  return files;
}

function shellcheck(script: string): string {
  const r = spawnSync('shellcheck', ['--shell=sh', '--norc', '-'], { input: script, encoding: 'utf8' });
  assert.ok(!r.error, `shellcheck: ${r.error?.message} (scripts/install-deps installs it: apt-get install shellcheck)`);
  return r.status === 0 ? '' : r.stdout;
}

const ROLE = join(bundledRolesDir(), 'reverse-tunnel-service');

/**
 * relay_tunnel's plan for one of the device's tunnels — the role's tunnel task, its vars as the task sets
 * them — on a device that has `unit` and `pin` installed and running, and the rollback files in place.
 */
async function tunnelTaskPlan(
  facts: Record<string, unknown>,
  item: Record<string, unknown>,
  unit: string,
  pin: string,
) {
  const defaults = parse(readFileSync(join(ROLE, 'defaults', 'main.yaml'), 'utf8')) as Record<string, unknown>;
  const vars = {
    ...defaults,
    ...facts,
    relay_address: String(item.address),
    relay_ssh_port: String(item.ssh_port),
    tunnel_suffix: String(item.suffix),
  };
  const render = (file: string) => String(renderHandlebars(readFileSync(join(ROLE, 'templates', file), 'utf8'), vars));
  const files = [
    { content: unit, attrs: 'root:root:644' },
    { content: pin, attrs: 'root:root:644' },
    { content: render('relay-play-rollback.service.hbs'), attrs: 'root:root:644' },
    { content: render('tunnel-rollback.sh.hbs'), attrs: 'root:root:755' },
  ];
  const read = relayTunnelRead(files, String(item.unit));
  const shown =
    'ActiveState=active\nUnitFileState=enabled\nInvocationID=abc\n\nActiveState=inactive\nUnitFileState=enabled\nInvocationID=\n';
  const ctx = {
    ...cannedCtx((command) => (command.startsWith('systemctl show ') ? shown : read)),
    resolveLocal: (src: string) => join(ROLE, 'templates', src),
    renderHandlebars: (text: string) => String(renderHandlebars(text, vars)),
  };
  return planWith(
    relay_tunnel,
    {
      src: 'relay-tunnel.service.hbs',
      rollback_src: 'tunnel-rollback.sh.hbs',
      rollback_unit_src: 'relay-play-rollback.service.hbs',
      relay_host_key: String(item.host_key),
      unit: String(item.unit),
      relay: String(item.name),
      confirm_timeout: 60,
    } as never,
    ctx,
  );
}

describe('enroll output with two relays', () => {
  it('a unit and a pinned host key per relay, on its port; valid sh, shellcheck clean; the first apply changes neither', async () => {
    const facts = await enrolledFacts(true);
    const port = Number(facts.tunnel_port);
    const { tunnels, unpinned } = firstBootTunnels(facts);
    assert.deepEqual(unpinned, []);
    assert.deepEqual(
      tunnels.map((t) => [t.relay, t.unit, t.suffix, t.pin]),
      [
        ['ra', 'relay-tunnel.service', '', `relay-play-relay ${KEY(10)}`],
        ['rb', 'relay-tunnel-rb.service', '-rb', `relay-play-relay ${KEY(20)}`],
      ],
    );
    const b = boot({ port, tunnels });
    const script = firstBootScript(b, { withHostKey: true });
    assert.equal(syntaxOk(script).status, 0, syntaxOk(script).stderr);
    assert.equal(shellcheck(script), '');
    assert.equal(shellcheck(firstBootScript({ ...b, login: undefined }, { withHostKey: false })), '');

    const files = putFiles(script);
    const ra = files.get('/etc/systemd/system/relay-tunnel.service')!.content;
    const rb = files.get('/etc/systemd/system/relay-tunnel-rb.service')!.content;
    assert.equal(files.get('/etc/relay-play/known_hosts')!.content, `relay-play-relay ${KEY(10)}\n`);
    assert.equal(files.get('/etc/relay-play/known_hosts-rb')!.content, `relay-play-relay ${KEY(20)}\n`);
    // Each unit reads its own pin under the alias its pin holds, and dials its relay at its port.
    assert.match(ra, /-o UserKnownHostsFile=\/etc\/relay-play\/known_hosts -o/);
    assert.match(rb, /-o UserKnownHostsFile=\/etc\/relay-play\/known_hosts-rb -o/);
    for (const u of [ra, rb]) assert.match(u, / -o HostKeyAlias=relay-play-relay /);
    assert.match(ra, new RegExp(` -p 22 -R localhost:${port}:localhost:22 relay@198\\.18\\.0\\.10$`, 'm'));
    assert.match(rb, new RegExp(` -p 2222 -R localhost:${port}:localhost:22 relay@198\\.18\\.0\\.20$`, 'm'));
    assert.match(script, /^systemctl enable --now relay-tunnel\.service relay-tunnel-rb\.service$/m);
    assert.match(script, /— reverse SSH tunnels to the relays ra and rb \(relay port \d+\)\.$/m);

    // The first apply's tunnel task, one item per relay, finds the files as it would write them.
    const items = facts.tunnel_relays as Record<string, unknown>[];
    assert.equal(items.length, 2);
    for (const item of items) {
      const t = tunnels.find((x) => x.relay === item.name)!;
      const p = await tunnelTaskPlan(
        facts,
        item,
        files.get(`/etc/systemd/system/${t.unit}`)!.content,
        files.get(`/etc/relay-play/known_hosts${t.suffix}`)!.content,
      );
      assert.equal(p.failed, undefined, p.failed);
      assert.equal(p.changed, false, `${String(item.name)}: ${JSON.stringify(p.diff)}`);
      assert.deepEqual(p.steps, []);
    }

    // The cloud-config carries the same script (without the host key, which goes to cloud-init).
    const doc = parse(cloudConfig(b)) as { write_files: { content: string }[] };
    const inCloud = putFiles(doc.write_files[0].content);
    assert.equal(inCloud.get('/etc/systemd/system/relay-tunnel-rb.service')!.content, rb);
    assert.equal(inCloud.get('/etc/relay-play/known_hosts-rb')!.content, `relay-play-relay ${KEY(20)}\n`);
    assert.match(cloudConfig(b), /^# relay-play enroll: rpi9 — reverse SSH tunnels to the relays ra and rb /m);
  });

  it('a relay whose host key relay-play never saw: no unit for it (the first apply that reaches the device adds it)', async () => {
    const facts = await enrolledFacts(false);
    const { tunnels, unpinned } = firstBootTunnels(facts);
    assert.deepEqual(unpinned, ['rb']);
    assert.deepEqual(
      tunnels.map((t) => t.unit),
      ['relay-tunnel.service'],
    );
    const script = firstBootScript(boot({ port: Number(facts.tunnel_port), tunnels }), { withHostKey: true });
    assert.equal(shellcheck(script), '');
    assert.doesNotMatch(script, /known_hosts-rb|relay-tunnel-rb/);
  });
});
