// The relays refuse what they must: each test tries the forbidden thing with a real key on a real host
// and asserts it fails — next to a control showing the same method succeeds where it is allowed, so
// a refusal is never just a broken test. The lab has two relays (issue 26) and every refusal of a
// relay is tried on both: server runs Debian 13 (OpenSSH 10.0), server2 Debian 12 (OpenSSH 9.2); each
// device holds a tunnel to each. rpi1 and the client run Debian 13, rpi2 Debian 12.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { labAvailable, startLab, type ExecResult, type Lab } from './lab/index.js';
import { findMarkers, markerToken } from './integration/markers.js';
import { recap, relayPlay, show, tempDir, writeYaml } from './integration/util.js';
import {
  assertFleetIntact,
  readManaged,
  relayInventory,
  setupClientLogin,
  waitReachable,
} from './integration/relay-lab.js';

const avail = labAvailable();
/** The inventory's relays, in order: the first is each device's relay-tunnel.service. */
const RELAYS = ['server', 'server2'];

interface Relay {
  name: string;
  ip: string;
  /** ssh's destination: the relay user there. */
  dest: string;
  /** On a device: the pin of this relay's host key, and the unit holding the tunnel to it. */
  devicePin: string;
  unit: string;
}

interface Who {
  host: string;
  user: string;
  relay: Relay;
  /** ssh with the key and this relay's pin, options only (the destination is `relay.dest`). */
  ssh: string;
}

interface Attempt {
  rc: number;
  out: string;
  err: string;
  raw: ExecResult;
  who: Who;
}

describe(
  'relay security: forbidden things are refused, on each relay',
  { skip: avail.ok ? false : avail.why, timeout: 900_000 },
  () => {
    let lab: Lab;
    let dir: string;
    let inventory: string;
    let relays: Relay[];
    let ports: Record<string, number>;
    /** Every output of apply in this file, for the private key check. */
    const outputs: { what: string; text: string }[] = [];

    const apply = async (...extra: string[]) => {
      const r = await relayPlay(lab, ['apply', inventory, ...extra]);
      outputs.push({ what: `apply ${extra.join(' ')}`, text: r.stdout + r.stderr });
      return r;
    };

    /**
     * `fn` on every relay at once. Waits for all before failing (a `finally` that restarts a tunnel runs
     * after every attempt), then fails naming each relay that did.
     */
    const eachRelay = async (fn: (r: Relay, i: number) => Promise<void>) => {
      const res = await Promise.allSettled(relays.map((r, i) => fn(r, i)));
      const failed = res.flatMap((x, i) => (x.status === 'rejected' ? [{ relay: relays[i].name, e: x.reason }] : []));
      if (failed.length)
        throw new Error(
          failed.map((f) => `on ${f.relay}: ${f.e instanceof Error ? f.e.message : String(f.e)}`).join('\n\n'),
          { cause: failed[0].e },
        );
    };

    /** Run a bash script on a host as `user` (via sudo), from a file so ssh inside it gets no stray stdin. */
    const script = (host: string, text: string, user = 'root', timeoutMs = 60_000) =>
      lab.exec(
        host,
        `f=$(mktemp) && cat > "$f" && chmod 755 "$f" && sudo -u ${user} bash "$f"; rc=$?; rm -f "$f"; exit $rc`,
        { input: text, timeoutMs },
      );

    // ssh to a relay with a device's relay key (as that relay's tunnel unit on the device) or a client's
    // jump key (pinned as relay-play-<relay>, as the client's ssh config does).
    const device = (host: string, r: Relay): Who => ({
      host,
      user: 'relay-tunnel',
      relay: r,
      ssh:
        `ssh -F none -i /etc/relay-play/id_relay -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${r.devicePin} ` +
        `-o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=relay-play-relay -o StrictHostKeyChecking=yes -o ConnectTimeout=5 -v`,
    });
    const client = (r: Relay): Who => ({
      host: 'client',
      user: 'admin',
      relay: r,
      ssh:
        'ssh -F none -i "$HOME/.ssh/id_relay_access" -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile="$HOME/.ssh/known_hosts.relay-play" ' +
        `-o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=relay-play-${r.name} -o StrictHostKeyChecking=yes -o ConnectTimeout=5 -v`,
    });

    /** One ssh attempt; `body` is the ssh invocation's tail, stdin/out/err are handled here. */
    const attempt = async (who: Who, body: string, stdin = 'sleep 2 |', timeoutS = 10): Promise<Attempt> => {
      const text = `out=$(mktemp); err=$(mktemp)
${stdin} timeout ${timeoutS} ${who.ssh} ${body} >"$out" 2>"$err"; rc=$?
echo "rc=$rc"; echo '--out--'; head -c 2000 "$out"; echo; echo '--err--'; cat "$err"; rm -f "$out" "$err"`;
      const raw = await script(who.host, text, who.user);
      const m = /^rc=(\d+)\n--out--\n([\s\S]*)\n--err--\n([\s\S]*)$/.exec(raw.stdout);
      assert.ok(m, `attempt output: ${show(raw)}`);
      return { rc: Number(m[1]), out: m[2], err: m[3], raw, who };
    };
    /** The key was accepted, by the relay the attempt was meant for (else the test proves nothing). */
    const authenticated = (a: Attempt) =>
      assert.match(
        a.err,
        new RegExp(`Authenticated to ${a.who.relay.ip.replace(/\./g, '\\.')}\\b`),
        `the key was accepted by ${a.who.relay.name} (else the test proves nothing):\n${a.err}`,
      );

    /** -L: a local listener forwarding to `target` on the relay's side; connect and read what comes back. */
    const tryLocalForward = async (who: Who, localPort: number, target: string) => {
      const text = `err=$(mktemp)
timeout 12 ${who.ssh} -N -L 127.0.0.1:${localPort}:${target} ${who.relay.dest} </dev/null 2>"$err" & pid=$!
for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/${localPort}) 2>/dev/null && break; sleep 0.1; done
got=$( (exec 3<>/dev/tcp/127.0.0.1/${localPort}; timeout 3 head -c 100 <&3) 2>/dev/null)
sleep 0.5; kill $pid 2>/dev/null; wait $pid 2>/dev/null
printf 'got=%s\\n--err--\\n' "$got"; cat "$err"; rm -f "$err"`;
      const raw = await script(who.host, text, who.user);
      const m = /^got=([\s\S]*?)\n--err--\n([\s\S]*)$/.exec(raw.stdout);
      assert.ok(m, show(raw));
      return { got: m[1], err: m[2], raw };
    };

    const relayListeners = async (r: Relay) => (await lab.exec(r.name, 'ss -Hltn', { timeoutMs: 10_000 })).stdout;

    /** Stop (or start) a device's tunnels to every relay. */
    const tunnels = (host: string, action: 'stop' | 'start') =>
      lab.exec(host, `sudo systemctl ${action} ${relays.map((r) => r.unit).join(' ')} && sleep 1`, {
        timeoutMs: 30_000,
      });
    /** Until every relay holds each device's tunnel port (a control through any relay needs its tunnel). */
    const waitTunnels = async (devices: string[], giveUpMs = 60_000) => {
      const deadline = Date.now() + giveUpMs;
      await eachRelay(async (r) => {
        for (;;) {
          const l = await relayListeners(r);
          const missing = devices.filter((d) => !new RegExp(`(127\\.0\\.0\\.1|\\[::1\\]):${ports[d]}\\b`).test(l));
          if (!missing.length) return;
          if (Date.now() > deadline) assert.fail(`no tunnel of ${missing.join(', ')} on ${r.name}:\n${l}`);
          await new Promise((res) => setTimeout(res, 500));
        }
      });
    };

    before(async () => {
      lab = await startLab(['server', 'server2', 'client', 'rpi1', 'rpi2'], {
        bootTimeoutMs: 300_000,
        release: { server: 'trixie', server2: 'bookworm', client: 'trixie', rpi1: 'trixie', rpi2: 'bookworm' },
      });
      dir = tempDir('relay-play-security-');
      relays = RELAYS.map((name, i) => ({
        name,
        ip: lab.hosts[name].ip,
        dest: `relay@${lab.hosts[name].ip}`,
        devicePin: i === 0 ? '/etc/relay-play/known_hosts' : `/etc/relay-play/known_hosts-${name}`,
        unit: i === 0 ? 'relay-tunnel.service' : `relay-tunnel-${name}.service`,
      }));
      await setupClientLogin(lab, ['rpi1', 'rpi2']);
      inventory = writeYaml(dir, 'inventory.yaml', relayInventory(lab, { relays: RELAYS, devices: ['rpi1', 'rpi2'] }));
      // The first apply generates every key: its most verbose output is checked for key material later.
      const r = await apply('-vvv', '--diff');
      assert.equal(r.code, 0, show(r));
      await waitReachable(lab, ['rpi1', 'rpi2'], 60_000, 'first apply');
      // Each relay holds the same fleet: one line per key, the same port for a device on both.
      const each = [];
      for (const relay of RELAYS)
        each.push(assertFleetIntact(await readManaged(lab, relay), ['rpi1', 'rpi2'], ['client'], RELAYS));
      assert.deepEqual(each[1], each[0], 'a device has the same port on each relay');
      ports = each[0];
      await waitTunnels(['rpi1', 'rpi2']);
    });

    after(async () => {
      await lab?.teardown();
    });

    it('device relay key: no shell, command, TTY or subsystem (id never runs)', async () => {
      await eachRelay(async (r) => {
        const rpi1 = device('rpi1', r);
        const tries = [
          await attempt(rpi1, `${r.dest} id`, '</dev/null'),
          await attempt(rpi1, `-tt ${r.dest} id`, '</dev/null'),
          await attempt(rpi1, `${r.dest}`, 'printf "id\\nexit\\n" |'),
          await attempt(rpi1, `-s ${r.dest} sftp`, '</dev/null'),
          await attempt(rpi1, `${r.dest} -- sh -c id`, '</dev/null'),
        ];
        for (const a of tries) {
          authenticated(a);
          assert.doesNotMatch(a.out, /uid=/, `no command ran:\n${show(a.raw)}`);
          assert.notEqual(a.rc, 0, show(a.raw));
        }
      });
    });

    it('device relay key: no -W or -L to any port (relay sshd, other device, own port, 127.0.0.1)', async () => {
      await eachRelay(async (r, i) => {
        const targets = [
          'localhost:22',
          '127.0.0.1:22',
          `localhost:${ports.rpi2}`,
          `localhost:${ports.rpi1}`,
          `127.0.0.1:${ports.rpi1}`,
          `127.0.0.1:${ports.rpi2}`,
          'localhost:1',
          `${r.ip}:22`,
        ];
        for (const t of targets) {
          const a = await attempt(device('rpi1', r), `-W ${t} ${r.dest}`);
          authenticated(a);
          assert.doesNotMatch(a.out, /SSH-2\.0/, `-W ${t} reached nothing:\n${show(a.raw)}`);
          assert.match(a.err, /open failed|forwarding failed/, `-W ${t} refused:\n${a.err}`);
        }
        // Local ports of their own: both relays' attempts run on rpi1 at once.
        let local = 40100 + 10 * i;
        for (const t of targets.slice(0, 5)) {
          const l = await tryLocalForward(device('rpi1', r), local++, t);
          assert.doesNotMatch(l.got, /SSH-2\.0/, `-L to ${t} reached nothing:\n${show(l.raw)}`);
          assert.match(l.err, /open failed|administratively prohibited/, `-L to ${t} refused:\n${l.err}`);
        }
      });
    });

    it('device relay key: no -R on another port or a non-loopback address; its own port on loopback is the only one', async () => {
      // With rpi1's tunnels stopped its own port is free on every relay, so a refusal below is the rule,
      // not "port in use".
      const stop = await tunnels('rpi1', 'stop');
      assert.equal(stop.code, 0, show(stop));
      try {
        await eachRelay(async (r) => {
          const own = ports.rpi1;
          const refused = [
            `localhost:${ports.rpi2}`,
            `0.0.0.0:${own}`,
            `${r.ip}:${own}`,
            `*:${own}`,
            `localhost:40000`,
            `127.0.0.1:${own}`,
            `[::1]:${own}`,
          ];
          for (const spec of refused) {
            const a = await attempt(
              device('rpi1', r),
              `-N -o ExitOnForwardFailure=yes -R ${spec}:localhost:22 ${r.dest}`,
              '</dev/null',
              15,
            );
            authenticated(a);
            assert.equal(a.rc, 255, `-R ${spec} must fail, not stay up (rc 124):\n${show(a.raw)}`);
            assert.match(a.err, /remote port forwarding failed/, `-R ${spec}:\n${a.err}`);
          }
          const listeners = await relayListeners(r);
          assert.doesNotMatch(
            listeners,
            new RegExp(`(0\\.0\\.0\\.0|\\*|${r.ip.replace(/\./g, '\\.')}|\\[::\\]):(${own}|${ports.rpi2}|40000)\\b`),
            listeners,
          );
          // Control: its own port on localhost is accepted: the key authenticates, the relay confirms the
          // forward, and ssh stays up until the timeout ends it (124 alone would also be a stalled connect).
          const ok = await attempt(
            device('rpi1', r),
            `-N -o ExitOnForwardFailure=yes -R localhost:${own}:localhost:22 ${r.dest}`,
            '</dev/null',
            5,
          );
          authenticated(ok);
          assert.match(
            ok.err,
            new RegExp(`remote forward success for: listen localhost:${own}\\b`),
            `control: the relay granted -R localhost:${own}:\n${ok.err}`,
          );
          assert.equal(ok.rc, 124, `control: -R localhost:${own} is allowed:\n${show(ok.raw)}`);
        });
      } finally {
        await tunnels('rpi1', 'start');
      }
      await waitReachable(lab, ['rpi1'], 30_000, 'rpi1 after its tunnels were restarted');
      await waitTunnels(['rpi1'], 30_000);
    });

    it('no Unix-socket forwarding with either key: -R to a socket path and -L to a relay socket are refused', async () => {
      const token = markerToken();
      await eachRelay(async (r, i) => {
        for (const who of [device('rpi1', r), client(r)]) {
          const sock = `/tmp/relay-play-sec-${token}-${who.host}.sock`;
          const a = await attempt(
            who,
            `-N -o ExitOnForwardFailure=yes -R ${sock}:localhost:22 ${r.dest}`,
            '</dev/null',
            15,
          );
          authenticated(a);
          assert.equal(a.rc, 255, `-R ${sock} must fail:\n${show(a.raw)}`);
          assert.match(a.err, /remote port forwarding failed/, a.err);
          const l = await tryLocalForward(who, 40120 + i, '/run/systemd/private');
          assert.match(l.err, /open failed|administratively prohibited/, `-L to a relay socket refused:\n${l.err}`);
        }
      });
      // Anywhere on either relay, /tmp's tmpfs included (where the socket would be).
      assert.deepEqual(
        await findMarkers(lab, RELAYS, token, { runner: false }),
        [],
        'no socket file appeared on a relay',
      );
    });

    it("client jump key: no shell; -W only to device ports; no -R, not even on an offline device's port", async () => {
      await eachRelay(async (r) => {
        for (const a of [
          await attempt(client(r), `${r.dest} id`, '</dev/null'),
          await attempt(client(r), `${r.dest}`, 'printf "id\\n" |'),
        ]) {
          authenticated(a);
          assert.doesNotMatch(a.out, /uid=/, show(a.raw));
        }
        // Control: -W to a device port reaches that device's sshd (through its tunnel to this relay).
        for (const d of ['rpi1', 'rpi2']) {
          const w = await attempt(client(r), `-W localhost:${ports[d]} ${r.dest}`);
          assert.match(w.out, /^SSH-2\.0-OpenSSH/, `-W localhost:${ports[d]} (${d}) works:\n${show(w.raw)}`);
        }
        for (const t of [
          'localhost:22',
          '127.0.0.1:22',
          `${r.ip}:22`,
          'localhost:40000',
          `localhost:${ports.rpi1 + 100}`,
          'localhost:1',
        ]) {
          const w = await attempt(client(r), `-W ${t} ${r.dest}`);
          assert.doesNotMatch(w.out, /SSH-2\.0/, `-W ${t}:\n${show(w.raw)}`);
          assert.match(w.err, /open failed|forwarding failed/, `-W ${t}:\n${w.err}`);
        }
      });
      // rpi2 goes offline: neither the jump key nor another device's key may take its port, on any relay.
      const stop = await tunnels('rpi2', 'stop');
      assert.equal(stop.code, 0, show(stop));
      try {
        await eachRelay(async (r) => {
          assert.doesNotMatch(await relayListeners(r), new RegExp(`:${ports.rpi2}\\b`), 'rpi2 port is free');
          for (const [who, spec] of [
            [client(r), `localhost:${ports.rpi2}`],
            [client(r), `localhost:40000`],
            [client(r), `localhost:1`],
            [device('rpi1', r), `localhost:${ports.rpi2}`],
          ] as const) {
            const a = await attempt(
              who,
              `-N -o ExitOnForwardFailure=yes -R ${spec}:localhost:22 ${r.dest}`,
              '</dev/null',
              15,
            );
            authenticated(a);
            assert.equal(a.rc, 255, `${who.host}: -R ${spec} must fail:\n${show(a.raw)}`);
            assert.match(a.err, /remote port forwarding failed/, a.err);
          }
          assert.doesNotMatch(await relayListeners(r), new RegExp(`:${ports.rpi2}\\b`), 'nobody squats rpi2 port');
        });
      } finally {
        await tunnels('rpi2', 'start');
      }
      await waitReachable(lab, ['rpi2'], 30_000, 'rpi2 after its tunnels were restarted');
      await waitTunnels(['rpi2'], 30_000);
    });

    it('the relay user cannot log in with a password (a control user with the same password can)', async () => {
      const pw = 'Relay-Play-Test-Pw-42';
      await eachRelay(async (r) => {
        // Password logins allowed globally (a drop-in sorting before relay-play's), so only relay-play's
        // Match block can be what refuses the relay user.
        const set = await script(
          r.name,
          `set -e
useradd -m -s /bin/bash pwcontrol
printf 'relay:%s\\npwcontrol:%s\\n' '${pw}' '${pw}' | chpasswd
printf 'PasswordAuthentication yes\\nKbdInteractiveAuthentication yes\\n' > /etc/ssh/sshd_config.d/01-test-passwords.conf
sshd -t && systemctl reload ssh
passwd -S relay`,
        );
        assert.equal(set.code, 0, show(set));
        assert.match(set.stdout, /^relay P /m, 'relay now has a usable password');
        const login = (user: string) =>
          lab.exec(
            'client',
            `printf '#!/bin/sh\\necho ${pw}\\n' > /tmp/askpass-${r.name} && chmod 700 /tmp/askpass-${r.name} && ` +
              `SSH_ASKPASS=/tmp/askpass-${r.name} SSH_ASKPASS_REQUIRE=force DISPLAY=:0 timeout 20 setsid -w ssh -F none -o PreferredAuthentications=password,keyboard-interactive ` +
              `-o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 -o UserKnownHostsFile=$HOME/.ssh/known_hosts.relay-play -o HostKeyAlias=relay-play-${r.name} ` +
              `-o StrictHostKeyChecking=yes ${user}@${r.ip} id </dev/null`,
            { timeoutMs: 30_000 },
          );
        try {
          const control = await login('pwcontrol');
          assert.match(
            control.stdout,
            /uid=\d+\(pwcontrol\)/,
            `control: password login works for another user:\n${show(control)}`,
          );
          const relay = await login('relay');
          assert.notEqual(relay.code, 0, show(relay));
          assert.doesNotMatch(relay.stdout, /uid=/, show(relay));
          assert.match(relay.stderr, /Permission denied \(publickey\)/, show(relay));
          const log = await lab.exec(
            r.name,
            "sudo journalctl -u ssh --no-pager -o cat | grep -E 'Accepted (password|keyboard-interactive)'",
          );
          assert.match(log.stdout, /for pwcontrol /, `the log read sees the control's login:\n${show(log)}`);
          assert.doesNotMatch(log.stdout, /for relay /, log.stdout);
        } finally {
          await script(
            r.name,
            'userdel -r pwcontrol 2>/dev/null; rm -f /etc/ssh/sshd_config.d/01-test-passwords.conf; systemctl reload ssh; true',
          );
        }
      });
      // apply locks the password again, on each relay.
      const r = await apply();
      assert.equal(r.code, 0, show(r));
      for (const relay of RELAYS) {
        assert.equal(recap(r.stdout)[relay].changed, 1, `${relay}:\n${show(r)}`);
        const st = await lab.exec(relay, 'sudo passwd -S relay');
        assert.match(st.stdout, /^relay L /, `${relay}: ${st.stdout}`);
      }
    });

    it('managed files have the right owners and modes; no group/world write on any .ssh dir or managed file', async () => {
      const stat = async (host: string, paths: string[]) => {
        const r = await lab.exec(host, `sudo stat -c '%n %a %U %G %F' ${paths.join(' ')}`);
        assert.equal(r.code, 0, show(r));
        return Object.fromEntries(
          r.stdout
            .trim()
            .split('\n')
            .map((l) => {
              const [n, mode, user, group, ...type] = l.split(' ');
              return [n, { mode, user, group, type: type.join(' ') }];
            }),
        );
      };
      const onRelay: Record<string, [string, string]> = {
        '/home/relay': ['', 'relay'],
        '/home/relay/.ssh': ['700', 'relay'],
        '/home/relay/.ssh/authorized_keys': ['600', 'relay'],
        '/etc/ssh/sshd_config.d/relay-play.conf': ['644', 'root'],
        '/var/lib/relay-play': ['755', 'root'],
        '/var/lib/relay-play/fleet.json': ['644', 'root'],
      };
      const expect: Record<string, Record<string, [string, string]>> = {
        rpi1: {
          '/etc/relay-play': ['755', 'root'],
          '/etc/relay-play/id_relay': ['600', 'relay-tunnel'],
          '/etc/relay-play/id_relay.pub': ['644', 'relay-tunnel'],
          // The pin of each relay's host key, and the unit of each tunnel.
          ...Object.fromEntries(relays.map((r) => [r.devicePin, ['644', 'root']])),
          ...Object.fromEntries(relays.map((r) => [`/etc/systemd/system/${r.unit}`, ['644', 'root']])),
        },
        ...Object.fromEntries(RELAYS.map((relay) => [relay, onRelay])),
        client: {
          '/home/admin/.ssh': ['700', 'admin'],
          '/home/admin/.ssh/id_relay_access': ['600', 'admin'],
          '/home/admin/.ssh/id_relay_access.pub': ['644', 'admin'],
          '/home/admin/.ssh/config': ['600', 'admin'],
          '/home/admin/.ssh/known_hosts.relay-play': ['600', 'admin'],
        },
      };
      for (const [host, files] of Object.entries(expect)) {
        const got = await stat(host, Object.keys(files));
        for (const [path, [mode, user]] of Object.entries(files)) {
          const g = got[path];
          assert.ok(g, `${host}:${path} exists`);
          if (mode) assert.equal(g.mode, mode, `${host}:${path} mode`);
          assert.equal(g.user, user, `${host}:${path} owner`);
          assert.equal(parseInt(g.mode, 8) & 0o022, 0, `${host}:${path} (${g.mode}) has no group/world write`);
        }
      }
      // The relay user on each relay: no usable shell, locked password.
      for (const relay of RELAYS) {
        const acct = await lab.exec(relay, 'getent passwd relay | cut -d: -f7; sudo passwd -S relay | cut -d" " -f2');
        assert.deepEqual(acct.stdout.trim().split('\n'), ['/usr/sbin/nologin', 'L'], `${relay}: ${show(acct)}`);
      }
      const tunnelUser = await lab.exec('rpi1', 'getent passwd relay-tunnel | cut -d: -f3,7');
      const [uid, shell] = tunnelUser.stdout.trim().split(':');
      assert.ok(Number(uid) > 0 && Number(uid) < 1000, `relay-tunnel is a system user (uid ${uid})`);
      assert.equal(shell, '/usr/sbin/nologin');
    });

    it('shell metacharacters in names and vars: rejected at validation (exit 1, file:line) or reach the host as data', async () => {
      // A short token: the payload, all on one line, names a file, and a name has at most 255 bytes.
      const token = markerToken(3);
      const markers = Array.from({ length: 9 }, (_, i) => `/tmp/${token}-${i}`);
      const payload =
        `a'b"c; touch ${markers[0]}; $(touch ${markers[1]}) \`touch ${markers[2]}\` ' ; touch ${markers[3]} ; '" ; touch ${markers[4]} ; "` +
        `\ntouch ${markers[5]}\n|| touch ${markers[6]} & touch ${markers[7]} > ${markers[8]} #`;
      const oneLine = payload.replace(/\n/g, ' ').replace(/\//g, '_');
      const hosts = lab.inventoryHosts();
      const base = () => JSON.parse(JSON.stringify(relayInventory(lab, { relays: RELAYS, devices: ['rpi1', 'rpi2'] })));

      // 1) apply: names and relay vars that end up in commands, files or ssh config are validated.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the inventory's parsed YAML, edited in place
      const cases: { what: string; edit: (inv: any) => void; expect: RegExp }[] = [
        {
          what: 'host name',
          edit: (inv) => (inv.all.children.devices.hosts[`rpi9;touch ${markers[0]}`] = hosts.rpi2),
          expect: /invalid host name/,
        },
        {
          what: 'host name $( )',
          edit: (inv) => (inv.all.children.devices.hosts['rpi9$(touch_x)'] = hosts.rpi2),
          expect: /invalid host name/,
        },
        {
          what: 'group name',
          edit: (inv) => (inv.all.children[`g\`touch ${markers[2]}\``] = { hosts: { rpi1: null } }),
          expect: /invalid group name/,
        },
        {
          what: 'var name',
          edit: (inv) => (inv.all.children.devices.hosts.rpi1['x;y'] = 1),
          expect: /invalid variable name/,
        },
        {
          what: 'login_user',
          edit: (inv) => (inv.all.children.devices.hosts.rpi1.login_user = payload),
          expect: /login_user of rpi1 is not a valid user name/,
        },
        {
          what: 'tunnel_user',
          edit: (inv) => (inv.all.children.devices.hosts.rpi1.tunnel_user = `x;touch ${markers[3]}`),
          expect: /tunnel_user of rpi1 is not a valid user name/,
        },
        {
          what: 'client_user',
          edit: (inv) => (inv.all.children.clients.hosts.client.client_user = `$(touch ${markers[1]})`),
          expect: /client_user of client is not a valid user name/,
        },
        {
          what: 'ansible_user',
          edit: (inv) =>
            (inv.all.children.devices.hosts.rpi2.ansible_user = `admin\n    ProxyCommand touch ${markers[5]}`),
          expect: /not a valid user name/,
        },
        {
          what: 'relay_address',
          edit: (inv) => (inv.all.children.relay.hosts.server.relay_address = `${relays[0].ip}; touch ${markers[4]}`),
          expect: /relay_address .* is not a host name or IP address/,
        },
        {
          what: 'tunnel_port',
          edit: (inv) => (inv.all.children.devices.hosts.rpi1.tunnel_port = `22300; touch ${markers[6]}`),
          expect: /tunnel_port of rpi1 must be a port number/,
        },
        {
          what: 'relay_ssh_port',
          edit: (inv) =>
            (inv.all.children.relay.hosts.server.relay_ssh_port = `22 -o ProxyCommand=touch_${markers[7]}`),
          expect: /relay_ssh_port of .* must be a port number/,
        },
      ];
      for (const c of cases) {
        const inv = base();
        c.edit(inv);
        const file = writeYaml(dir, `inject-${c.what.replace(/\W+/g, '-')}.yaml`, inv);
        const r = await relayPlay(lab, ['apply', file]);
        assert.equal(r.code, 1, `${c.what}: ${show(r)}`);
        const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
        assert.equal(errors.length, 1, `${c.what}: ${show(r)}`);
        assert.ok(
          errors[0].startsWith(`error: ${file}:`) && /^error: [^:]+:\d+:\d+: /.test(errors[0]),
          `${c.what}: file:line:col: ${errors[0]}`,
        );
        assert.match(errors[0], c.expect, `${c.what}: ${errors[0]}`);
        assert.equal(r.stdout, '', `${c.what}: nothing ran`);
      }

      // 2) run: a playbook passing the payload (an inventory var) through every module that builds a command or file.
      const inv = writeYaml(dir, 'inject-run.yaml', {
        all: { vars: { payload, one_line: oneLine }, hosts: { rpi1: hosts.rpi1, client: hosts.client } },
      });
      const pb = writeYaml(dir, 'inject-playbook.yaml', [
        {
          name: 'payloads reach the host as data',
          hosts: 'all',
          tasks: [
            { name: 'directory', file: { path: '/tmp/rp-data', state: 'directory' } },
            { name: 'command argv', command: { argv: ['printf', '%s', '{{ payload }}'] }, register: 'argv_out' },
            // The payload's quotes are unbalanced: splitting the rendered words refuses it (fails closed).
            {
              name: 'command free-form',
              command: 'printf %s {{ one_line }}',
              ignore_errors: true,
              register: 'free_form',
            },
            { name: 'copy content', copy: { content: '{{ payload }}', dest: '/tmp/rp-data/copy' } },
            { name: 'file named by payload', file: { path: '/tmp/rp-data/{{ one_line }}', state: 'touch' } },
            { name: 'lineinfile', lineinfile: { path: '/tmp/rp-data/lines', line: '{{ one_line }}', create: true } },
            { name: 'blockinfile', blockinfile: { path: '/tmp/rp-data/block', block: '{{ payload }}', create: true } },
            { name: 'stat', stat: { path: '/tmp/rp-data/{{ one_line }}' }, register: 'st' },
            { name: 'command with creates', command: { cmd: 'true', creates: '/tmp/rp-data/{{ one_line }}x' } },
            { name: 'command with chdir', command: { argv: ['pwd'], chdir: '/tmp/rp-data' } },
            { name: 'debug', debug: { msg: '{{ payload }}' } },
          ],
        },
      ]);
      const r = await relayPlay(lab, ['run', pb, '-i', inv, '-v']);
      assert.equal(r.code, 0, show(r));
      for (const h of ['rpi1', 'client']) {
        const copy = await lab.exec(h, 'cat /tmp/rp-data/copy');
        assert.equal(copy.stdout, payload, `${h}: copy wrote the payload byte for byte`);
        const named = await lab.exec(h, 'ls /tmp/rp-data');
        assert.ok(
          named.stdout.split('\n').includes(oneLine),
          `${h}: a file literally named by the payload:\n${named.stdout}`,
        );
        const lines = await lab.exec(h, 'cat /tmp/rp-data/lines');
        assert.equal(lines.stdout, `${oneLine}\n`);
      }
      assert.ok(
        r.stdout.includes(JSON.stringify(payload).slice(1, -1)),
        'command argv printed the payload back unchanged',
      );

      // 3) No marker anywhere: on no lab host, not on the runner (files named by the payload exist only
      // as data, in /tmp/rp-data).
      assert.deepEqual(
        await findMarkers(lab, [...RELAYS, 'client', 'rpi1', 'rpi2'], token, { expected: ['/tmp/rp-data'] }),
        [],
        'injected commands ran',
      );
    });

    it('no private key content in any output of apply (-v, -vvv, --json, --diff)', async () => {
      for (const extra of [
        [],
        ['-v'],
        ['-vvv', '--diff'],
        ['--json'],
        ['--json', '-vvv', '--diff'],
        ['--check', '--diff', '-vvv'],
      ]) {
        const r = await apply(...extra);
        assert.equal(r.code, 0, show(r));
      }
      // Also an apply that regenerates a device's relay key and the client's jump key, verbosely.
      const gone = await lab.exec('rpi2', 'sudo rm /etc/relay-play/id_relay /etc/relay-play/id_relay.pub');
      assert.equal(gone.code, 0, show(gone));
      const regen = await apply('-vvv', '--diff', '--json');
      assert.equal(regen.code, 0, show(regen));
      await waitReachable(lab, ['rpi1', 'rpi2'], 30_000, 'after re-keying rpi2');

      const keys: { what: string; text: string; pub: string }[] = [];
      for (const [host, path] of [
        ['rpi1', '/etc/relay-play/id_relay'],
        ['rpi2', '/etc/relay-play/id_relay'],
        ['rpi1', '/etc/ssh/ssh_host_ed25519_key'],
        ['server', '/etc/ssh/ssh_host_ed25519_key'],
        ['server2', '/etc/ssh/ssh_host_ed25519_key'],
        ['client', '/home/admin/.ssh/id_relay_access'],
      ]) {
        const k = await lab.exec(host, `sudo cat ${path}; echo ---split---; sudo ssh-keygen -y -f ${path}`);
        const [text, pub] = k.stdout.split('---split---\n');
        assert.match(text, /PRIVATE KEY/, `${host}:${path}`);
        assert.match(pub, /^ssh-ed25519 /, `${host}:${path}`);
        keys.push({ what: `${host}:${path}`, text, pub });
      }
      // Pieces that would show up if a key leaked: each base64 line of its body, 24-character windows
      // of the body, and the same for the file's base64 (as slurp would carry it). The body embeds the
      // public key (which outputs may show), so windows that are part of the public key line are left out.
      const needles = (k: { text: string; pub: string }) => {
        const body = k.text
          .split('\n')
          .filter((l) => l && !l.startsWith('-----'))
          .join('');
        const b64 = Buffer.from(k.text).toString('base64');
        const out = new Set(k.text.split('\n').filter((l) => l.length >= 20 && !l.startsWith('-----')));
        for (const s of [body, b64]) for (let i = 0; i + 24 <= s.length; i += 12) out.add(s.slice(i, i + 24));
        return [...out].filter((n) => !k.pub.includes(n));
      };
      assert.ok(outputs.length >= 9, `${outputs.length} outputs collected`);
      for (const o of outputs) {
        assert.doesNotMatch(o.text, /PRIVATE KEY/, `"PRIVATE KEY" in the output of ${o.what}`);
        for (const k of keys) {
          for (const n of needles(k)) {
            assert.ok(!o.text.includes(n), `a piece of ${k.what} ("${n}") is in the output of ${o.what}`);
          }
        }
      }
    });
  },
);
