// What `relay-play enroll` writes: a cloud-config and a POSIX script that carry the keys intact, parse,
// and can't be broken by what they carry.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { parse } from 'yaml';
import { cloudConfig, firstBootScript, type FirstBoot } from '../../src/relay/enroll.js';

const pair = (comment: string) => {
  const k = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  return { private: k.private, public: k.public.trim() };
};

const boot = (over: Partial<FirstBoot> = {}): FirstBoot => ({
  device: 'rpi9',
  relay: 'server',
  port: 22229,
  tunnelUser: 'relay-tunnel',
  relayKey: pair('relay-access rpi9'),
  hostKey: pair('root@rpi9'),
  relayPin: 'relay-play-relay ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb0',
  unit: "[Service]\nExecStart=/usr/bin/ssh -R localhost:22229:localhost:22 relay@203.0.113.5\n# 'quotes' $HOME `x` \\ %h\n",
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
    for (const text of [b.relayKey.private, b.hostKey.private, b.unit])
      assert.ok(script.includes(text), text.slice(0, 40));
    assert.match(script, /<<'RELAY_PLAY_[0-9a-f]{12}'\n/);
  });

  it('a here-document marker never occurs in what it carries', () => {
    // A unit whose text would end a fixed marker early: the marker is chosen not to occur.
    const script = firstBootScript(boot({ unit: 'RELAY_PLAY_\nEOF\n' }), { withHostKey: false });
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
