// Connecting as `ssh` and `ansible-playbook` do (issue 13), on lab hosts, each case with a HOME made
// for it: the default key, an encrypted key (no terminal: refused with the ssh-add hint; in an agent:
// used), ~/.ssh/config aliases, a relay only reachable through a bastion (ProxyJump), host keys at
// every hop, known_hosts patterns and @revoked, RSA host keys, and become as Ansible reads it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { labAvailable, startLab, type ExecResult, type Lab } from './lab/index.js';
import { CLI, recap, REPO, show, tempDir, writeYaml } from './integration/util.js';

const avail = labAvailable();
const PASSPHRASE = 'correct horse battery staple';

describe(
  'connecting as ssh does: keys, ~/.ssh/config, jump hosts, host keys, become',
  { skip: avail.ok ? false : avail.why, timeout: 900_000 },
  () => {
    let lab: Lab;
    let dir: string;
    const ip = (h: string) => lab.hosts[h].ip;

    /** A HOME of its own: the lab's known_hosts, and the files given (relative to HOME). */
    const makeHome = (name: string, files: Record<string, string> = {}): string => {
      const home = join(dir, name);
      mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
      copyFileSync(join(lab.home, '.ssh', 'known_hosts'), join(home, '.ssh', 'known_hosts'));
      for (const [f, text] of Object.entries(files)) writeFileSync(join(home, f), text, { mode: 0o600 });
      return home;
    };
    const run = (home: string, args: string[], env: Record<string, string> = {}): Promise<ExecResult> =>
      lab.run(['node', CLI, ...args], {
        env: { HOME: home, SSH_AUTH_SOCK: '', ...env },
        cwd: REPO,
        timeoutMs: 240_000,
      });
    const inventory = (
      name: string,
      relay: Record<string, Record<string, unknown>>,
      devices: Record<string, Record<string, unknown>>,
      vars: Record<string, unknown> = {},
    ) => writeYaml(dir, name, { all: { vars, children: { relay: { hosts: relay }, devices: { hosts: devices } } } });
    const admin = { ansible_user: 'admin' };
    const viaOf = (out: string, h: string) => new RegExp(`^${h}\\s+: ok=.* via=(\\w+)$`, 'm').exec(out)?.[1];
    const adminKey = () => readFileSync(lab.adminKey, 'utf8');
    /** Drop the runner's own connections (from the bridge, 198.18.0.1) to host's sshd; others still get in. */
    const refuseRunner = (host: string, on: boolean) =>
      lab.run([
        'sh',
        '-c',
        on
          ? `ip netns exec ${lab.hosts[host].netns} nft -f - <<'EOF'\ntable inet conntest {\n chain input {\n  type filter hook input priority 0; policy accept;\n  ip saddr 198.18.0.1 tcp dport 22 drop\n }\n}\nEOF`
          : `ip netns exec ${lab.hosts[host].netns} nft delete table inet conntest`,
      ]);
    const runnerReaches = async (host: string) =>
      (await lab.run(['timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${ip(host)}/22`])).code === 0;
    const hostKey = async (host: string, type: string) =>
      (await lab.exec(host, `cut -d' ' -f1,2 /etc/ssh/ssh_host_${type}_key.pub`)).stdout.trim();

    before(async () => {
      lab = await startLab(['server', 'rpi1', 'bastion']);
      dir = tempDir('relay-play-connect-');
    });
    after(async () => {
      await lab?.teardown();
    });

    describe('keys as ssh picks them', () => {
      let agent: ChildProcess | undefined;
      after(() => {
        if (agent?.pid) process.kill(agent.pid, 'SIGTERM');
      });

      it('the default key only (~/.ssh/id_ed25519, no agent, no key variable): apply works', async () => {
        const inv = inventory(
          'keys.yaml',
          { server: { ansible_host: ip('server'), ...admin } },
          { rpi1: { ansible_host: ip('rpi1'), ...admin } },
        );
        const none = await run(makeHome('no-key'), ['apply', inv]);
        assert.equal(none.code, 4, `control: without any key the run must fail\n${show(none)}`);
        assert.match(none.stdout, /permission denied \(publickey\): no key to offer \(no agent/, show(none));
        const r = await run(makeHome('default-key', { '.ssh/id_ed25519': adminKey() }), ['apply', inv]);
        assert.equal(r.code, 0, show(r));
        assert.equal(recap(r.stdout).rpi1?.failed, 0, show(r));
      });

      it('an RSA key (~/.ssh/id_rsa, the last default): signs with rsa-sha2, which OpenSSH requires', async () => {
        const home = makeHome('rsa-key');
        const key = join(home, '.ssh', 'id_rsa');
        assert.equal((await lab.run(['ssh-keygen', '-q', '-t', 'rsa', '-b', '3072', '-N', '', '-f', key])).code, 0);
        const auth = await lab.exec('rpi1', 'cat >> ~/.ssh/authorized_keys', {
          input: readFileSync(`${key}.pub`, 'utf8'),
        });
        assert.equal(auth.code, 0, show(auth));
        const pb = writeYaml(dir, 'rsa-user.yaml', [
          { name: 'hello', hosts: 'all', gather_facts: false, tasks: [{ name: 'who', command: 'true' }] },
        ]);
        const inv = writeYaml(dir, 'rsa-user-inv.yaml', {
          all: { hosts: { rpi1: { ansible_host: ip('rpi1'), ...admin } } },
        });
        const r = await run(home, ['run', pb, '-i', inv]);
        assert.equal(r.code, 0, show(r));
      });

      it('the same key encrypted, no terminal: exit 4 naming the key and ssh-add, nothing of the key printed', async () => {
        const home = makeHome('encrypted', { '.ssh/id_ed25519': adminKey() });
        const key = join(home, '.ssh', 'id_ed25519');
        const p = await lab.run(['ssh-keygen', '-q', '-p', '-N', PASSPHRASE, '-P', '', '-f', key]);
        assert.equal(p.code, 0, show(p));
        const inv = inventory(
          'keys.yaml',
          { server: { ansible_host: ip('server'), ...admin } },
          { rpi1: { ansible_host: ip('rpi1'), ...admin } },
        );
        const r = await run(home, ['status', inv]);
        assert.equal(r.code, 4, show(r));
        assert.match(
          r.stderr,
          new RegExp(
            `${key.replace(/[.]/g, '\\.')} is encrypted .*no agent holds it; add it to your agent with: ssh-add ${key.replace(/[.]/g, '\\.')}`,
          ),
          show(r),
        );
        const out = r.stdout + r.stderr;
        assert.ok(!out.includes(PASSPHRASE), 'the passphrase was printed');
        const body = readFileSync(key, 'utf8')
          .split('\n')
          .filter((l) => l && !l.startsWith('-----'));
        for (const line of body) assert.ok(!out.includes(line), 'a line of the private key was printed');
        const a = await run(home, ['apply', inv]);
        assert.equal(a.code, 4, show(a));
        assert.match(a.stdout, /ssh-add /, show(a));
      });

      it('the encrypted key on a terminal: its passphrase is asked once for the run (two hosts), never echoed', async () => {
        const home = makeHome('tty', { '.ssh/id_ed25519': adminKey() });
        const key = join(home, '.ssh', 'id_ed25519');
        assert.equal((await lab.run(['ssh-keygen', '-q', '-p', '-N', PASSPHRASE, '-P', '', '-f', key])).code, 0);
        const inv = writeYaml(dir, 'two.yaml', {
          all: { vars: admin, hosts: { server: { ansible_host: ip('server') }, rpi1: { ansible_host: ip('rpi1') } } },
        });
        const pb = writeYaml(dir, 'tty.yaml', [
          { name: 'hello', hosts: 'all', gather_facts: false, tasks: [{ name: 'who', command: 'true' }] },
        ]);
        // script(1) gives relay-play a terminal (so the listr2 progress display too: the question must come
        // before it takes the screen); the answer is typed only once the question is on it.
        const cmd = `stty cols 120 rows 40; node ${CLI} run ${pb} -i ${inv}`;
        const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, SSH_AUTH_SOCK: '' };
        delete env.CI;
        const child = spawn('ip', ['netns', 'exec', lab.bridgeNs, 'script', '-qfec', cmd, '/dev/null'], {
          env,
          cwd: REPO,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let out = '';
        const code = await new Promise<number | null>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
          child.stdout!.on('data', (d: Buffer) => {
            const before = out;
            out += d.toString('utf8');
            if (!before.includes('Enter passphrase') && out.includes('Enter passphrase'))
              child.stdin!.write(`${PASSPHRASE}\r`);
          });
          child.on('exit', (c) => {
            clearTimeout(timer);
            resolve(c);
          });
        });
        assert.equal(code, 0, out);
        assert.equal(out.split(`Enter passphrase for key '${key}'`).length - 1, 1, out);
        assert.ok(!out.includes(PASSPHRASE), `the passphrase was echoed:\n${out}`);
        assert.equal(recap(out.replace(/\r/g, '')).rpi1?.failed, 0, out);
        assert.equal(recap(out.replace(/\r/g, '')).server?.failed, 0, out);
      });

      it('an agent holding that key (SSH_AUTH_SOCK): works, though the file itself is locked', async () => {
        const home = makeHome('agent', { '.ssh/id_ed25519': adminKey() });
        const key = join(home, '.ssh', 'id_ed25519');
        assert.equal((await lab.run(['ssh-keygen', '-q', '-p', '-N', PASSPHRASE, '-P', '', '-f', key])).code, 0);
        const sock = join(home, 'agent.sock');
        agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
        for (let i = 0; i < 50 && (await lab.run(['test', '-S', sock])).code !== 0; i++)
          await new Promise((r) => setTimeout(r, 100));
        const askpass = join(home, 'askpass');
        writeFileSync(askpass, `#!/bin/sh\necho '${PASSPHRASE}'\n`, { mode: 0o700 });
        const add = await lab.run(['ssh-add', key], {
          env: { SSH_AUTH_SOCK: sock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: 'none' },
        });
        assert.equal(add.code, 0, show(add));
        // The file alone can't be used (encrypted, no terminal): only the agent can make this work.
        const inv = inventory(
          'keys.yaml',
          { server: { ansible_host: ip('server'), ...admin } },
          { rpi1: { ansible_host: ip('rpi1'), ...admin } },
        );
        const r = await run(home, ['apply', inv], { SSH_AUTH_SOCK: sock });
        assert.equal(r.code, 0, show(r));
        const s = await run(home, ['status', inv], { SSH_AUTH_SOCK: sock });
        assert.equal(s.code, 0, show(s));
      });
    });

    describe('~/.ssh/config', () => {
      it('aliases for the relay and a device with no ansible_host: apply works, devices dial the HostName; -v names ignored keywords', async () => {
        const home = makeHome('aliases', {
          '.ssh/config': `Host myrelay\n  HostName ${ip('server')}\n  User admin\n  IdentityFile ${lab.adminKey}\n  ForwardAgent yes\nHost rpi1\n  HostName ${ip('rpi1')}\n  User admin\n  IdentityFile ${lab.adminKey}\n`,
        });
        const inv = inventory('aliases.yaml', { myrelay: {} }, { rpi1: {} });
        const r = await run(home, ['apply', inv, '-v']);
        assert.equal(r.code, 0, show(r));
        assert.equal(viaOf(r.stdout, 'rpi1'), 'direct', show(r));
        assert.match(r.stdout, /^note: \[myrelay\] ssh config: ignored ForwardAgent \(~\/\.ssh\/config;/m, show(r));
        const unit = await lab.exec('rpi1', 'cat /etc/systemd/system/relay-tunnel.service');
        assert.match(
          unit.stdout,
          new RegExp(`relay@${ip('server').replace(/\./g, '\\.')}$`, 'm'),
          'relay_address is the HostName of the alias',
        );
        const s = await run(home, ['status', inv]);
        assert.equal(s.code, 0, show(s));
      });
    });

    describe('jump hosts', () => {
      const bastionConfig = (extra = '') =>
        `Host bastion\n  HostName ${ip('bastion')}\n  User admin\n  IdentityFile ${lab.adminKey}\nHost myrelay\n  HostName ${ip('server')}\n  User admin\n  IdentityFile ${lab.adminKey}\n  ProxyJump bastion\n${extra}`;
      before(async () => {
        assert.equal((await refuseRunner('server', true)).code, 0);
        assert.equal(await runnerReaches('server'), false, 'the relay still answers the runner directly');
        assert.equal(await runnerReaches('bastion'), true);
      });
      after(async () => {
        await refuseRunner('server', false);
      });

      it('a relay only reachable through a bastion (ProxyJump in ~/.ssh/config): apply and status work', async () => {
        const inv = inventory(
          'bastion.yaml',
          { myrelay: {} },
          { rpi1: { ansible_host: ip('rpi1'), ...admin, ansible_ssh_private_key_file: lab.adminKey } },
        );
        const direct = await run(
          makeHome('no-jump', { '.ssh/config': bastionConfig().replace(/ {2}ProxyJump bastion\n/, '') }),
          ['status', inv],
        );
        assert.equal(direct.code, 4, `control: without the jump host the relay must be out of reach\n${show(direct)}`);
        const home = makeHome('jump', { '.ssh/config': bastionConfig() });
        const r = await run(home, ['apply', inv]);
        assert.equal(r.code, 0, show(r));
        const s = await run(home, ['status', inv, '--json']);
        assert.equal(s.code, 0, show(s));
        assert.equal(JSON.parse(s.stdout)[0].up, true, show(s));
      });

      it("a device's direct path through a jump host too (the device refuses the runner itself)", async () => {
        await refuseRunner('rpi1', true);
        try {
          const inv = inventory(
            'bastion.yaml',
            { myrelay: {} },
            {
              rpi1: {
                ansible_host: ip('rpi1'),
                ...admin,
                ansible_ssh_private_key_file: lab.adminKey,
                ansible_ssh_common_args: '-o ProxyJump=bastion',
              },
            },
          );
          const r = await run(makeHome('jump-device', { '.ssh/config': bastionConfig() }), ['apply', inv, '-v']);
          assert.equal(r.code, 0, show(r));
          assert.equal(viaOf(r.stdout, 'rpi1'), 'direct', show(r));
        } finally {
          await refuseRunner('rpi1', false);
        }
      });

      it('a wrong host key at the jump host: refused, saying which host and where its key is on file', async () => {
        const home = makeHome('jump-wrong-key', { '.ssh/config': bastionConfig() });
        const kh = join(home, '.ssh', 'known_hosts');
        const wrong = (await hostKey('rpi1', 'ed25519')).split(' ')[1];
        writeFileSync(
          kh,
          readFileSync(kh, 'utf8').replace(
            new RegExp(`^(${ip('bastion').replace(/\./g, '\\.')} ssh-ed25519 )\\S+`, 'm'),
            `$1${wrong}`,
          ),
        );
        const inv = inventory(
          'bastion.yaml',
          { myrelay: {} },
          { rpi1: { ansible_host: ip('rpi1'), ...admin, ansible_ssh_private_key_file: lab.adminKey } },
        );
        const r = await run(home, ['status', inv]);
        assert.equal(r.code, 4, show(r));
        assert.match(
          r.stderr,
          new RegExp(
            `jump host bastion: REMOTE HOST KEY HAS CHANGED for ${ip('bastion').replace(/\./g, '\\.')} \\(${kh.replace(/[.]/g, '\\.')}\\); refusing to connect`,
          ),
          show(r),
        );
      });
    });

    describe('host keys', () => {
      const pb = () =>
        writeYaml(dir, 'hello.yaml', [
          { name: 'hello', hosts: 'all', gather_facts: false, tasks: [{ name: 'who', command: 'true' }] },
        ]);
      const target = () =>
        writeYaml(dir, 'one.yaml', {
          all: { hosts: { rpi1: { ansible_host: ip('rpi1'), ...admin, ansible_ssh_private_key_file: lab.adminKey } } },
        });
      const knownHosts = (home: string, text: string) => writeFileSync(join(home, '.ssh', 'known_hosts'), text);

      it('only an RSA key on file: negotiated as rsa-sha2 (OpenSSH refuses SHA-1 ssh-rsa)', async () => {
        const home = makeHome('rsa');
        knownHosts(home, `${ip('rpi1')} ${await hostKey('rpi1', 'rsa')}\n`);
        const r = await run(home, ['run', pb(), '-i', target()]);
        assert.equal(r.code, 0, show(r));
      });

      it('a wildcard line applies; a negated pattern keeps it off a host; @revoked is refused even with a matching line', async () => {
        const home = makeHome('patterns');
        const key = await hostKey('rpi1', 'ed25519');
        knownHosts(home, `198.18.0.* ${key}\n`);
        const ok = await run(home, ['run', pb(), '-i', target()]);
        assert.equal(ok.code, 0, show(ok));
        knownHosts(home, `198.18.0.*,!${ip('rpi1')} ${key}\n`);
        const negated = await run(home, ['run', pb(), '-i', target()]);
        assert.equal(negated.code, 4, show(negated));
        assert.match(negated.stdout, /host key for \S+ is not in/, show(negated));
        knownHosts(home, `198.18.0.* ${key}\n@revoked * ${key}\n`);
        const revoked = await run(home, ['run', pb(), '-i', target(), '--accept-new-host-keys']);
        assert.equal(revoked.code, 4, show(revoked));
        assert.match(revoked.stdout, /is marked @revoked in .*known_hosts; refusing to connect/, show(revoked));
      });
    });

    describe('become as Ansible', () => {
      const pb = (dest: string) =>
        writeYaml(dir, `become-${dest}.yaml`, [
          {
            name: 'no become here',
            hosts: 'rpi1',
            tasks: [{ name: 'a file', copy: { content: 'x\n', dest: `/tmp/${dest}` } }],
          },
        ]);
      const inv = (groupVars: Record<string, unknown>, hostVars: Record<string, unknown> = {}) =>
        writeYaml(dir, 'become-inv.yaml', {
          all: {
            children: {
              devices: {
                vars: groupVars,
                hosts: {
                  rpi1: {
                    ansible_host: ip('rpi1'),
                    ansible_user: 'admin',
                    ansible_ssh_private_key_file: lab.adminKey,
                    ...hostVars,
                  },
                },
              },
            },
          },
        });
      const owner = async (f: string) => (await lab.exec('rpi1', `stat -c %U /tmp/${f}`)).stdout.trim();
      const sudoCount = async () =>
        Number(
          (
            await lab.exec('rpi1', "journalctl -q --no-pager _COMM=sudo | grep -c 'COMMAND='", { user: 'root' })
          ).stdout.trim(),
        );

      it("ansible_become: true for the group, a playbook without become: the file is root's", async () => {
        const r = await run(lab.home, ['run', pb('become-yes'), '-i', inv({ ansible_become: true })]);
        assert.equal(r.code, 0, show(r));
        assert.equal(await owner('become-yes'), 'root');
      });

      it('ansible_become: "no": not root; "maybe": refused before connecting', async () => {
        const r = await run(lab.home, [
          'run',
          pb('become-no'),
          '-i',
          inv({ ansible_become: 'yes' }, { ansible_become: 'no' }),
        ]);
        assert.equal(r.code, 0, show(r));
        assert.equal(await owner('become-no'), 'admin');
        const bad = await run(lab.home, ['run', pb('become-no'), '-i', inv({ ansible_become: 'maybe' })]);
        assert.equal(bad.code, 1, show(bad));
        assert.match(
          bad.stderr,
          /become-inv\.yaml:\d+:\d+: ansible_become of rpi1 is not a boolean: "maybe"/,
          show(bad),
        );
      });

      it("a login as root runs commands without sudo (sudo counted in the host's journal)", async () => {
        const setup = await lab.exec(
          'rpi1',
          'sudo install -d -m 700 /root/.ssh && sudo cp ~/.ssh/authorized_keys /root/.ssh/authorized_keys',
        );
        assert.equal(setup.code, 0, show(setup));
        const before = await sudoCount();
        const asAdmin = await run(lab.home, ['run', pb('become-admin'), '-i', inv({ ansible_become: true })]);
        assert.equal(asAdmin.code, 0, show(asAdmin));
        const mid = await sudoCount();
        assert.ok(mid > before, `control: a login as admin with become uses sudo (${before} → ${mid})`);
        const asRoot = await run(lab.home, [
          'run',
          pb('become-root'),
          '-i',
          inv({ ansible_become: true }, { ansible_user: 'root' }),
        ]);
        assert.equal(asRoot.code, 0, show(asRoot));
        assert.equal(await owner('become-root'), 'root');
        assert.equal(await sudoCount(), mid, 'sudo ran for a login as root');
      });
    });
  },
);
