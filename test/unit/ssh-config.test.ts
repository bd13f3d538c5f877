// How relay-play reads ~/.ssh/config, known_hosts, ansible_ssh_*_args and the inventory into a login
// target, and in which order it offers keys: as ssh (and ansible-playbook) would. No SSH here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withBecome } from '../../src/engine/connection/become.js';
import { ansibleBool } from '../../src/engine/util/bool.js';
import { identityFiles, orderIdentities, publicBlobOf } from '../../src/engine/connection/identities.js';
import { hostFieldMatches, hostKeyAlgorithms, lookupHostKeys } from '../../src/engine/connection/known-hosts.js';
import { matchesPatternList } from '../../src/engine/connection/patterns.js';
import { clearConfigCache, sshConfigFor } from '../../src/engine/connection/ssh-config.js';
import {
  parseJumps,
  parseSshArgs,
  proxyCommandAsJump,
  shellWords,
  sshAddress,
  sshTarget,
} from '../../src/engine/connection/target.js';
import { createHmac, randomBytes } from 'node:crypto';

describe('host patterns (ssh_config PATTERNS)', () => {
  it('* matches any run, ? exactly one character, case-insensitively', () => {
    assert.ok(matchesPatternList('rpi*', 'rpi12'));
    assert.ok(matchesPatternList('rpi*', 'rpi'));
    assert.ok(matchesPatternList('rpi?', 'rpi1'));
    assert.ok(!matchesPatternList('rpi?', 'rpi'), '? must not match nothing');
    assert.ok(!matchesPatternList('rpi?', 'rpi12'));
    assert.ok(matchesPatternList('RPI1', 'rpi1'));
    assert.ok(matchesPatternList('198.18.0.*', '198.18.0.10'));
    assert.ok(!matchesPatternList('198.18.0.*', '198.18.01'), 'a dot is a dot');
  });
  it('a negated pattern vetoes the list; negations alone match nothing', () => {
    assert.ok(matchesPatternList(['*', '!rpi2'], 'rpi1'));
    assert.ok(!matchesPatternList(['*', '!rpi2'], 'rpi2'));
    assert.ok(!matchesPatternList(['!rpi2'], 'rpi1'));
    assert.ok(!matchesPatternList('rpi* !rpi2', 'rpi2'));
  });
});

describe('~/.ssh/config', () => {
  let dir: string;
  let files: { user: string; system: string };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'relay-play-sshcfg-'));
    mkdirSync(join(dir, '.ssh', 'config.d'), { recursive: true });
    files = { user: join(dir, '.ssh', 'config'), system: join(dir, 'ssh_config') };
    writeFileSync(
      files.user,
      `# top-level lines apply to every host
ConnectTimeout 7
Include config.d/*.conf
Host myrelay
  HostName 198.18.0.10
  User admin
  IdentityFile ~/.ssh/relay_key
  ForwardAgent yes
Host rpi? !rpi9
  HostName %h.lan
  Port 2222
Host bastion
  Include bastion.inc
Host *
  User fallback
  IdentityFile ~/.ssh/all_key
  Port 22
Match host rpi1
  User from-match
`,
    );
    writeFileSync(join(dir, '.ssh', 'config.d', '10-first.conf'), 'Host rpi1\n  User pi\n  HostName rpi1.first\n');
    writeFileSync(join(dir, '.ssh', 'config.d', 'ignored.txt'), 'Host rpi1\n  User never\n');
    writeFileSync(join(dir, '.ssh', 'bastion.inc'), 'HostName 198.18.0.99\nUser jump\n');
    writeFileSync(files.system, 'Host *\n  User system\n  StrictHostKeyChecking accept-new\n  SendEnv LANG\n');
    clearConfigCache();
  });

  it('matches Host patterns and keeps the first value, from included files in order', () => {
    const c = sshConfigFor('rpi1', files, dir);
    assert.deepEqual(c.values.User, ['pi'], 'the Include comes before the Host blocks');
    assert.deepEqual(c.values.HostName, ['rpi1.first']);
    assert.deepEqual(c.values.Port, ['2222']);
    assert.deepEqual(c.values.ConnectTimeout, ['7']);
    assert.deepEqual(c.values.StrictHostKeyChecking, ['accept-new'], '/etc/ssh/ssh_config comes after ~/.ssh/config');
    assert.deepEqual(c.identityFiles, ['~/.ssh/all_key'], 'IdentityFile adds up over every block that applies');
  });

  it('a negated pattern keeps a host out of the block; only what applies is used', () => {
    const c = sshConfigFor('rpi9', files, dir);
    assert.equal(c.values.HostName, undefined);
    assert.deepEqual(c.values.Port, ['22']);
    assert.deepEqual(c.values.User, ['fallback']);
  });

  it('an Include inside a Host block applies only to that host', () => {
    assert.deepEqual(sshConfigFor('bastion', files, dir).values.HostName, ['198.18.0.99']);
    assert.deepEqual(sshConfigFor('bastion', files, dir).values.User, ['jump']);
    assert.equal(sshConfigFor('other', files, dir).values.HostName, undefined);
  });

  it('collects IdentityFile in order, and names the keywords it ignores (Match is not evaluated)', () => {
    const c = sshConfigFor('myrelay', files, dir);
    assert.deepEqual(c.identityFiles, ['~/.ssh/relay_key', '~/.ssh/all_key']);
    assert.deepEqual([...c.ignored.keys()].sort(), ['ForwardAgent', 'Match', 'SendEnv']);
    assert.equal(c.ignored.get('SendEnv'), files.system);
    assert.deepEqual(sshConfigFor('rpi1', files, dir).values.User, ['pi'], 'Match lines never apply');
  });

  describe('into a login target (with inventory vars and ansible_ssh_*_args)', () => {
    let home: string | undefined;
    let sock: string | undefined;
    before(() => {
      home = process.env.HOME;
      sock = process.env.SSH_AUTH_SOCK;
      process.env.HOME = dir;
      delete process.env.SSH_AUTH_SOCK;
      writeFileSync(join(dir, '.ssh', 'id_ed25519'), 'not really a key');
    });
    after(() => {
      process.env.HOME = home;
      if (sock) process.env.SSH_AUTH_SOCK = sock;
    });
    const opts = { acceptNewHostKeys: false };

    it('an alias with no ansible_host: address, user and key from ssh config', () => {
      const t = sshTarget('myrelay', {}, opts);
      assert.equal(t.address, '198.18.0.10');
      assert.equal(t.addressFrom, 'ssh config');
      assert.equal(t.user, 'admin');
      assert.equal(t.port, 22);
      assert.deepEqual(t.identityFiles, [join(dir, '.ssh/relay_key'), join(dir, '.ssh/all_key')]);
      assert.equal(t.connectTimeoutMs, 7000);
      assert.equal(t.acceptNewHostKeys, false);
      assert.deepEqual(sshAddress('myrelay', {}), { address: '198.18.0.10', from: 'ssh config' });
    });

    it('inventory vars win over ssh config; ansible_host is the name the config is matched against', () => {
      const t = sshTarget(
        'relay',
        { ansible_host: 'myrelay', ansible_user: 'ops', ansible_port: 2200, ansible_ssh_private_key_file: '~/k' },
        opts,
      );
      assert.equal(t.address, '198.18.0.10');
      assert.equal(t.user, 'ops');
      assert.equal(t.port, 2200);
      assert.deepEqual(t.identityFiles, [join(dir, 'k'), join(dir, '.ssh/relay_key'), join(dir, '.ssh/all_key')]);
      const direct = sshTarget('rpi1', { ansible_host: '198.18.0.11' }, opts);
      assert.equal(direct.address, '198.18.0.11');
      assert.equal(direct.addressFrom, 'ansible_host');
      assert.equal(direct.user, 'fallback');
    });

    it('-o in ansible_ssh_common_args beats ssh config; host_key_checking: false accepts new keys', () => {
      const t = sshTarget(
        'rpi1',
        {
          ansible_ssh_common_args: '-o User=argsuser -o "ProxyJump=admin@myrelay:2022,bastion" -oPort=2300',
          host_key_checking: 'false',
        },
        opts,
      );
      assert.equal(t.user, 'argsuser');
      assert.equal(t.port, 2300);
      assert.equal(t.acceptNewHostKeys, true);
      assert.deepEqual(
        t.jumps!.map((j) => `${j.user}@${j.address}:${j.port}`),
        ['admin@198.18.0.10:2022', 'jump@198.18.0.99:22'],
      );
    });

    it('no explicit key: the default keys that exist (~/.ssh/id_ed25519 here)', () => {
      const t = sshTarget(
        'plain',
        { ansible_host: '198.18.0.20', ansible_ssh_common_args: '-o IdentityFile=~/given' },
        opts,
      );
      assert.deepEqual(
        t.identityFiles,
        [join(dir, 'given'), join(dir, '.ssh/all_key')],
        'an explicit file replaces the defaults',
      );
      writeFileSync(files.user, 'Host plain\n  User u\n');
      clearConfigCache();
      try {
        assert.deepEqual(sshTarget('plain', { ansible_host: '198.18.0.20' }, opts).identityFiles, [
          join(dir, '.ssh/id_ed25519'),
        ]);
      } finally {
        clearConfigCache();
      }
    });
  });
});

describe('ansible_ssh_*_args', () => {
  it('splits words as a shell does and reads -o, -J, -i, -p, -l (first value wins)', () => {
    assert.deepEqual(shellWords(`-o 'ProxyCommand=ssh -W %h:%p gw' -o "User=a b" x\\ y`), [
      '-o',
      'ProxyCommand=ssh -W %h:%p gw',
      '-o',
      'User=a b',
      'x y',
    ]);
    const a = parseSshArgs(
      '-o StrictHostKeyChecking=no -J gw -i k1',
      '-o StrictHostKeyChecking=yes -o ProxyJump=other -ik2 -p 2222 -l bob -C',
    );
    assert.equal(a.options.get('stricthostkeychecking'), 'no');
    assert.equal(a.options.get('proxyjump'), 'gw');
    assert.deepEqual(a.identityFiles, ['k1', 'k2']);
    assert.equal(a.port, '2222');
    assert.equal(a.user, 'bob');
    assert.deepEqual(a.ignored, ['-C']);
  });
  it('a ProxyCommand of the form `ssh -W %h:%p gateway` is a jump host; any other is not run', () => {
    assert.equal(proxyCommandAsJump('ssh -W %h:%p -q user@gateway.example.com'), 'user@gateway.example.com');
    assert.equal(proxyCommandAsJump('/usr/bin/ssh -q -p 2222 -l bob -W%h:%p gw'), 'bob@gw:2222');
    assert.equal(proxyCommandAsJump('ssh -W %h:%p -i key gw'), undefined, 'options it does not know: not guessed');
    assert.equal(proxyCommandAsJump('nc -X connect -x proxy:8080 %h %p'), undefined);
    assert.equal(proxyCommandAsJump('ssh gw nc %h %p'), undefined);
    const t = sshTarget(
      'h',
      { ansible_host: '198.18.0.30', ansible_ssh_common_args: `-o ProxyCommand="ssh -W %h:%p -q admin@198.18.0.31"` },
      { acceptNewHostKeys: false },
    );
    assert.deepEqual(
      t.jumps!.map((j) => `${j.user}@${j.address}:${j.port}`),
      ['admin@198.18.0.31:22'],
    );
    const other = sshTarget(
      'h',
      { ansible_host: '198.18.0.30', ansible_ssh_common_args: `-o "ProxyCommand=nc %h %p"` },
      { acceptNewHostKeys: false },
    );
    assert.deepEqual(other.jumps, []);
    assert.match(other.hint ?? '', /relay-play runs no command: use ProxyJump/);
  });
  it('ProxyJump hops: [user@]host[:port], ssh:// URIs, IPv6 in brackets, none', () => {
    assert.deepEqual(parseJumps('a,bob@b:2200,ssh://c@[2001:db8::1]:22'), [
      { user: undefined, host: 'a', port: undefined },
      { user: 'bob', host: 'b', port: 2200 },
      { user: 'c', host: '2001:db8::1', port: 22 },
    ]);
    assert.deepEqual(parseJumps('none'), []);
    assert.throws(() => parseJumps('a@'), /cannot read/);
  });
});

describe('identities: which keys, in which order', () => {
  it('the agent first (in its order), then the identity files it does not hold', () => {
    const files = [
      { file: '/k/a', blob: 'A' },
      { file: '/k/b', blob: 'B' },
    ];
    assert.deepEqual(orderIdentities(['X', 'B'], files, false), [
      { source: 'agent', blob: 'X' },
      { source: 'agent', blob: 'B', file: '/k/b' },
      { source: 'file', file: '/k/a', blob: 'A' },
    ]);
  });
  it('IdentitiesOnly: only the identity files, through the agent where it holds them', () => {
    const files = [
      { file: '/k/a', blob: 'A' },
      { file: '/k/b', blob: 'B' },
    ];
    assert.deepEqual(orderIdentities(['X', 'B'], files, true), [
      { source: 'agent', blob: 'B', file: '/k/b' },
      { source: 'file', file: '/k/a', blob: 'A' },
    ]);
    assert.deepEqual(orderIdentities([], [], true), []);
  });
  it('default files: ~/.ssh/id_ed25519, id_ecdsa, id_rsa, those that exist, unless a file is given', () => {
    const home = mkdtempSync(join(tmpdir(), 'relay-play-ids-'));
    mkdirSync(join(home, '.ssh'));
    assert.deepEqual(identityFiles([], home), []);
    for (const f of ['id_rsa', 'id_ed25519']) writeFileSync(join(home, '.ssh', f), '');
    assert.deepEqual(identityFiles([], home), [join(home, '.ssh/id_ed25519'), join(home, '.ssh/id_rsa')]);
    assert.deepEqual(identityFiles(['/x/given'], home), ['/x/given']);
  });
  it("an encrypted key's public half is read without its passphrase (from its clear header)", () => {
    const home = mkdtempSync(join(tmpdir(), 'relay-play-ids-'));
    const key = join(home, 'enc');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret words', '-f', key]);
    const pub = execFileSync('ssh-keygen', ['-y', '-P', 'secret words', '-f', key], { encoding: 'utf8' }).split(' ')[1];
    execFileSync('rm', [`${key}.pub`]);
    assert.equal(publicBlobOf(key).blob, pub);
    assert.match(publicBlobOf(join(home, 'missing')).problem ?? '', /does not exist/);
  });
});

describe('known_hosts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-play-kh-'));
  const file = join(dir, 'known_hosts');
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('hashed.example').digest('base64')}`;
  writeFileSync(
    file,
    `# comment
198.18.0.* ssh-ed25519 WILD
*.lan,!bad.lan ssh-ed25519 LAN
[198.18.0.10]:2222 ssh-ed25519 PORT
${hashed} ssh-ed25519 HASHED
@revoked * ssh-ed25519 REVOKED
@cert-authority * ssh-ed25519 CA
`,
  );
  it('wildcards, negations, [host]:port and hashed names', () => {
    assert.deepEqual(
      lookupHostKeys([file], '198.18.0.10').keys.map((k) => k.key),
      ['WILD'],
    );
    assert.deepEqual(
      lookupHostKeys([file], '[198.18.0.10]:2222').keys.map((k) => k.key),
      ['PORT'],
    );
    assert.deepEqual(
      lookupHostKeys([file], 'rpi.lan').keys.map((k) => k.key),
      ['LAN'],
    );
    assert.deepEqual(lookupHostKeys([file], 'bad.lan').keys, []);
    assert.deepEqual(
      lookupHostKeys([file], 'hashed.example').keys.map((k) => k.key),
      ['HASHED'],
    );
    assert.ok(!hostFieldMatches(hashed, 'other.example'));
  });
  it('@revoked keys are returned as revoked, never as known; @cert-authority lines are not keys', () => {
    const k = lookupHostKeys([file, join(dir, 'missing')], 'anything');
    assert.deepEqual(k.keys, []);
    assert.deepEqual(k.revoked, [{ type: 'ssh-ed25519', key: 'REVOKED', file }]);
  });
  it('an RSA key is asked for as rsa-sha2-512/256, never SHA-1 ssh-rsa', () => {
    assert.deepEqual(
      hostKeyAlgorithms([
        { type: 'ssh-rsa', key: 'x' },
        { type: 'ssh-ed25519', key: 'y' },
      ]),
      ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-ed25519'],
    );
  });
});

describe('become', () => {
  it('booleans as Ansible reads them', () => {
    for (const v of [true, 'yes', 'True', 'on', '1', 1, 'y']) assert.equal(ansibleBool(v), true, String(v));
    for (const v of [false, 'no', 'False', 'off', '0', 0, 'n']) assert.equal(ansibleBool(v), false, String(v));
    for (const v of ['maybe', '', 2]) assert.equal(ansibleBool(v), undefined, String(v));
  });
  it('sudo unless the login user is root and root is wanted', () => {
    assert.match(withBecome('id', { become: true }, 'admin'), /^sudo -n -H -u root -- sh -c id$/);
    assert.equal(withBecome('id', { become: true }, 'root'), 'id');
    assert.match(withBecome('id', { become: true, becomeUser: 'www' }, 'root'), /^sudo -n -H -u www /);
    assert.equal(withBecome('id', { become: false }, 'admin'), 'id');
  });
});
