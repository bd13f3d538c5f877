// Integration test of the lab itself: real Debian 12 and 13 hosts under systemd-nspawn (needs root and the
// packages listed at the top of test/lab/index.ts). Skipped where the lab cannot run, except on CI
// (CI=true) or with RELAY_PLAY_LAB_REQUIRED=1, where that is a failure.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { CACHE_ROOT, labAvailable, recipeHash, startLab, sweepStaleLabs, type Lab } from './lab/index.js';

const avail = labAvailable();
const required = process.env.CI === 'true' || process.env.RELAY_PLAY_LAB_REQUIRED === '1';
const skip = !avail.ok && !required ? `lab unavailable: ${avail.why}` : false;

function netnsNames(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\S+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

describe('lab: a fleet of real Debian 12 and 13 hosts', { skip }, () => {
  let lab: Lab;
  // gamma: sshd as Fedora or Arch install it (unit sshd.service, binary /usr/bin/sshd).
  const names = ['alpha', 'beta', 'gamma'];

  before(async () => {
    assert.ok(avail.ok, `lab must be available here: ${avail.why}`);
    lab = await startLab(names, {
      release: { alpha: 'bookworm', beta: 'trixie', gamma: 'bookworm' },
      sshdNamedSshd: ['gamma'],
    });
  });

  after(async () => {
    await lab?.teardown();
  });

  it('assigns addresses in order and an inventory', () => {
    assert.deepEqual(Object.keys(lab.hosts), names);
    assert.equal(lab.hosts.alpha.ip, '198.18.0.10');
    assert.equal(lab.hosts.beta.ip, '198.18.0.11');
    assert.equal(lab.bridgeNs, `${lab.prefix}-br`);
    assert.equal(lab.hosts.alpha.netns, `${lab.prefix}-alpha`);
    const inv = lab.inventoryHosts();
    assert.deepEqual(inv.beta, {
      ansible_host: '198.18.0.11',
      ansible_user: 'admin',
      ansible_ssh_private_key_file: lab.adminKey,
    });
    assert.ok(fs.existsSync(lab.adminKey));
    assert.equal(fs.statSync(lab.adminKey).mode & 0o077, 0, 'private key not readable by others');
  });

  it('pins every host key by IP in home/.ssh/known_hosts with private modes', async () => {
    assert.equal(fs.statSync(lab.home).mode & 0o777, 0o700);
    assert.equal(fs.statSync(`${lab.home}/.ssh`).mode & 0o777, 0o700);
    const kh = `${lab.home}/.ssh/known_hosts`;
    assert.equal(fs.statSync(kh).mode & 0o777, 0o600);
    const lines = fs.readFileSync(kh, 'utf8').trim().split('\n');
    assert.equal(lines.length, names.length);
    for (const h of names) {
      const line = lines.find((l) => l.startsWith(`${lab.hosts[h].ip} `));
      assert.match(line ?? '', /^198\.18\.0\.\d+ ssh-ed25519 AAAA[A-Za-z0-9+/]+=*$/);
      // The pinned key is the one the host itself holds.
      const r = await lab.exec(h, 'cut -d" " -f1,2 /etc/ssh/ssh_host_ed25519_key.pub');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(line!.split(' ').slice(1).join(' '), r.stdout.trim());
    }
    // Hosts got distinct keys (the image ships none).
    assert.notEqual(lines[0].split(' ')[2], lines[1].split(' ')[2]);
  });

  it('each host runs its release: Debian 12 with OpenSSH 9.2, Debian 13 with OpenSSH 10.0; one image per release', async () => {
    const facts =
      'sed -n "s/^VERSION_ID=//p" /etc/os-release; sudo sshd -V 2>&1 | grep -o "OpenSSH_[0-9.]*" | head -n 1; cat /etc/relay-play-lab';
    const want = { alpha: ['"12"', 'OpenSSH_9.2', 'bookworm'], beta: ['"13"', 'OpenSSH_10.0', 'trixie'] } as const;
    for (const [h, [version, openssh, release]] of Object.entries(want)) {
      const r = await lab.exec(h, facts);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), [version, openssh, `relay-play lab image ${recipeHash(release)}`]);
      assert.equal(lab.hosts[h].release, release);
      const recipe = JSON.parse(fs.readFileSync(`${CACHE_ROOT}/${recipeHash(release)}/recipe.json`, 'utf8'));
      assert.equal(recipe.suite, release);
    }
    assert.notEqual(recipeHash('bookworm'), recipeHash('trixie'));
    // Both trust the one admin key the lab logs in with (each image was built with its own).
    assert.equal((await lab.exec('beta', 'hostname')).stdout.trim(), 'beta');
  });

  it('sshdNamedSshd: sshd.service runs /usr/bin/sshd and there is no ssh.service at all', async () => {
    const r = await lab.exec(
      'gamma',
      'systemctl is-active sshd.service; systemctl show -p LoadState --value ssh.service; systemctl show -p ExecStart --value sshd.service; test -e /usr/sbin/sshd || echo no-usr-sbin-sshd',
    );
    assert.equal(r.code, 0, r.stderr);
    const [active, sshLoad, execStart, noSbin] = r.stdout.trim().split('\n');
    assert.equal(active, 'active');
    assert.equal(sshLoad, 'not-found');
    assert.match(execStart, /path=\/usr\/bin\/sshd ;/);
    assert.equal(noSbin, 'no-usr-sbin-sshd');
    // Only gamma: alpha (same image) keeps Debian's names.
    assert.equal((await lab.exec('alpha', 'systemctl show -p LoadState --value ssh.service')).stdout.trim(), 'loaded');
  });

  it('forwardPort: the host answers on the forwarded port, its sockets see the real one', async () => {
    await lab.forwardPort('beta', 2222, 22);
    const r = await lab.exec('alpha', `timeout 5 bash -c 'exec 3<>/dev/tcp/${lab.hosts.beta.ip}/2222; head -c 8 <&3'`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'SSH-2.0-', 'sshd on port 22 answered on 2222');
    const closed = await lab.exec(
      'alpha',
      `timeout 5 bash -c '</dev/tcp/${lab.hosts.alpha.ip}/2222' 2>&1 || echo refused`,
    );
    assert.match(closed.stdout, /refused/, 'only beta forwards');
  });

  it('hostname prints the lab name on each host', async () => {
    for (const h of names) {
      const r = await lab.exec(h, 'hostname');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), h);
    }
  });

  it('admin has passwordless sudo; exec reports exit codes, stdin and timeouts without throwing', async () => {
    const r = await lab.exec('alpha', 'sudo -n true && sudo -n id -u');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '0');
    const fail = await lab.exec('alpha', 'echo out; echo err >&2; exit 3');
    assert.deepEqual(fail, { code: 3, stdout: 'out\n', stderr: 'err\n' });
    const cat = await lab.exec('beta', 'cat', { input: 'hello\n' });
    assert.equal(cat.stdout, 'hello\n');
    const slow = await lab.exec('beta', 'sleep 30', { timeoutMs: 1500 });
    assert.equal(slow.code, 124);
    const py = await lab.exec('beta', 'python3 -c "print(6*7)"');
    assert.equal(py.stdout.trim(), '42');
  });

  it('systemd is fully up and /etc/hosts resolves localhost', async () => {
    const r = await lab.exec(
      'alpha',
      'systemctl is-system-running; getent ahostsv4 localhost; grep -E "^::1\\s+localhost" /etc/hosts; systemctl is-active ssh',
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^running\n/);
    assert.match(r.stdout, /^127\.0\.0\.1\s+STREAM localhost$/m);
    assert.match(r.stdout, /^::1\s+localhost/m);
    assert.match(r.stdout, /\nactive\n$/);
    // sudo resolves the host's own name (nsswitch myhostname) without complaint
    const s = await lab.exec('alpha', 'sudo -n true');
    assert.equal(s.stderr, '');
  });

  it('hosts reach each other on the bridge', async () => {
    const r = await lab.exec('alpha', `timeout 5 bash -c '</dev/tcp/${lab.hosts.beta.ip}/22' && echo open`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'open');
    const back = await lab.exec('beta', `timeout 5 bash -c '</dev/tcp/${lab.hosts.alpha.ip}/22' && echo open`);
    assert.equal(back.stdout.trim(), 'open');
  });

  it('lab.run runs inside the bridge namespace with HOME = lab.home', async () => {
    const r = await lab.run(['sh', '-c', 'echo "$HOME"; ip -o -4 addr show br0']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], lab.home);
    assert.match(r.stdout, /inet 198\.18\.0\.1\/24/);
    // Plain OpenSSH from the bridge namespace works with the lab's home/key (what the runner does).
    const ssh = await lab.run([
      'ssh',
      '-i',
      lab.adminKey,
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${lab.home}/.ssh/known_hosts`,
      '-o',
      'StrictHostKeyChecking=yes',
      `admin@${lab.hosts.beta.ip}`,
      'hostname',
    ]);
    assert.equal(ssh.code, 0, ssh.stderr);
    assert.equal(ssh.stdout.trim(), 'beta');
  });

  it('nothing outside 198.18.0.0/24 is routable from the bridge or a host', async () => {
    const br = spawnSync('ip', ['-n', lab.bridgeNs, '-4', 'route', 'show', 'table', 'main'], { encoding: 'utf8' });
    const routes = br.stdout.trim().split('\n');
    assert.equal(routes.length, 1, br.stdout);
    assert.match(routes[0], /^198\.18\.0\.0\/24 dev br0 /);
    const br6 = spawnSync('ip', ['-n', lab.bridgeNs, '-6', 'route', 'show', 'table', 'main'], { encoding: 'utf8' });
    assert.doesNotMatch(br6.stdout, /default|via/);
    // `ip route get` asks the kernel only: no packet leaves.
    for (const ns of [lab.bridgeNs, lab.hosts.alpha.netns]) {
      const get = spawnSync('ip', ['-n', ns, 'route', 'get', '192.0.2.1'], { encoding: 'utf8' });
      assert.notEqual(get.status, 0, `${ns} must have no route to 192.0.2.1: ${get.stdout}`);
      assert.match(get.stderr, /unreachable/i);
    }
    // Every address in the host is 198.18.0.x, loopback or ::1 (no link-local IPv6 either).
    const addrs = await lab.exec('alpha', "ip -o addr show | awk '{print $4}'");
    for (const a of addrs.stdout.trim().split('\n'))
      assert.match(a, /^(198\.18\.0\.\d+\/24|127\.0\.0\.1\/8|::1\/128)$/);
    // The root namespace got nothing of ours.
    const root = spawnSync('ip', ['-o', 'addr', 'show'], { encoding: 'utf8' });
    assert.doesNotMatch(root.stdout, /198\.18\.0\./);
  });

  it('files written on a host survive a reboot; the host key stays the same', async () => {
    const kh = fs.readFileSync(`${lab.home}/.ssh/known_hosts`, 'utf8');
    const token = `survives-${Date.now()}`;
    const w = await lab.exec(
      'beta',
      `echo ${token} | sudo tee /root/lab-token >/dev/null && sync && cat /proc/sys/kernel/random/boot_id`,
    );
    assert.equal(w.code, 0, w.stderr);
    const pidBefore = lab.nspawnPid('beta');
    const bootBefore = (await lab.exec('beta', 'cat /proc/1/stat | cut -d" " -f22')).stdout.trim();
    await lab.reboot('beta');
    const pidAfter = lab.nspawnPid('beta');
    assert.ok(pidBefore && pidAfter && pidBefore !== pidAfter, 'a new nspawn');
    assert.equal(alive(pidBefore!), false, 'old nspawn gone');
    const r = await lab.exec('beta', 'sudo cat /root/lab-token');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), token);
    const bootAfter = (await lab.exec('beta', 'cat /proc/1/stat | cut -d" " -f22')).stdout.trim();
    assert.notEqual(bootAfter, bootBefore, 'init was restarted');
    assert.equal(fs.readFileSync(`${lab.home}/.ssh/known_hosts`, 'utf8'), kh, 'host keys unchanged');
    // alpha was not disturbed
    assert.equal((await lab.exec('alpha', 'hostname')).stdout.trim(), 'alpha');
  });

  it('setLink cuts a host off the bridge and back; changeIp moves it', async () => {
    await lab.setLink('alpha', false);
    const cut = await lab.exec('alpha', 'true', { timeoutMs: 10_000 });
    assert.equal(cut.code, 255, 'ssh fails while the link is down');
    await lab.setLink('alpha', true);
    assert.equal((await lab.exec('alpha', 'hostname')).stdout.trim(), 'alpha');

    await lab.changeIp('alpha', '198.18.0.42');
    assert.equal(lab.hosts.alpha.ip, '198.18.0.42');
    const r = await lab.exec('alpha', "ip -o -4 addr show eth0 | awk '{print $4}'");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '198.18.0.42/24');
    assert.match(fs.readFileSync(`${lab.home}/.ssh/known_hosts`, 'utf8'), /^198\.18\.0\.42 ssh-ed25519 /m);
    await assert.rejects(lab.changeIp('alpha', '10.0.0.5'), /198\.18\.0/);
  });

  it('teardown removes namespaces, processes, mounts and temp dirs, and is idempotent', async () => {
    const prefix = lab.prefix;
    const pids = names.map((h) => lab.nspawnPid(h));
    assert.ok(pids.every((p) => p && alive(p)));
    assert.ok(netnsNames().some((n) => n.startsWith(`${prefix}-`)));
    await lab.teardown();
    await lab.teardown();
    assert.deepEqual(
      netnsNames().filter((n) => n.startsWith(`${prefix}-`)),
      [],
    );
    for (const p of pids) assert.equal(alive(p!), false, `nspawn ${p} gone`);
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
    assert.ok(!mounts.includes(lab.dir), 'no mounts left');
    assert.equal(fs.existsSync(lab.dir), false, 'temp dir removed');
    assert.equal(fs.existsSync(`/run/relay-play-lab/${prefix}.json`), false, 'state file removed');
    const stray = fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          return fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(`--machine=${prefix}-`);
        } catch {
          return false;
        }
      });
    assert.deepEqual(stray, []);
  });
});

describe('lab: crash recovery', { skip }, () => {
  it('sweepStaleLabs removes the leftovers of a killed owner', async () => {
    // A child process boots one host and is SIGKILLed: no teardown runs.
    const script = `
      import { startLab } from ${JSON.stringify(new URL('./lab/index.js', import.meta.url).href)};
      const lab = await startLab(['orphan']);
      process.stdout.write(JSON.stringify({ prefix: lab.prefix, dir: lab.dir, pid: lab.nspawnPid('orphan') }) + '\\n');
      setInterval(() => {}, 1000);
    `;
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const info = await new Promise<{ prefix: string; dir: string; pid: number }>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (b: Buffer) => {
        buf += b.toString();
        if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]));
      });
      child.on('exit', (c) => reject(new Error(`child exited ${c} before the lab was up`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.ok(alive(info.pid), 'the orphaned nspawn is still running before the sweep');
    assert.ok(netnsNames().includes(`${info.prefix}-orphan`));

    const swept = sweepStaleLabs();
    assert.ok(swept.includes(info.prefix), `swept ${JSON.stringify(swept)}`);
    assert.equal(alive(info.pid), false);
    assert.deepEqual(
      netnsNames().filter((n) => n.startsWith(`${info.prefix}-`)),
      [],
    );
    assert.equal(fs.existsSync(info.dir), false);
    assert.ok(!fs.readFileSync('/proc/self/mounts', 'utf8').includes(info.dir));
  });
});
