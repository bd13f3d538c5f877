// The general playbook engine (`relay-play run`) on two real lab hosts: every module, check/diff,
// become, unreachable and failed hosts, bad input, injection, output modes, --limit, host keys, and
// one SSH login per host. Playbooks are in test/fixtures/engine; every test checks the hosts with lab.exec.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { labAvailable, startLab, type ExecResult, type Lab } from './lab/index.js';
import { findMarkers, markerToken } from './integration/markers.js';
import { CLI, recap, relayPlay, REPO, show, tempDir, waitFor, writeYaml } from './integration/util.js';

const avail = labAvailable();
const FIX = join(REPO, 'test', 'fixtures', 'engine');
const fx = (name: string) => join(FIX, name);
const HOSTS = ['web1', 'web2'] as const;

const KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEfBo6yU6s745c+VwVe09bE7n+gs7NGApiHK3np1U10B engine-a';
const KEY_B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFW9YY3K2DfVF1hGlhS7itgUnVeK5e37yk8cEUbCNOYM engine-b';
const KEY_C = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBflrkpsdsx+0Okrw9rlkM9/hA/99/lAd2t+8KjDwns4 stale';

type Status = 'ok' | 'changed' | 'skipping' | 'fatal' | 'failed (ignored)';

/** host → task name → status, from the plain output's result lines (the last one wins). */
function statuses(stdout: string): Record<string, Record<string, Status>> {
  const out: Record<string, Record<string, Status>> = {};
  const re = /^(ok|changed|skipping|fatal|failed \(ignored\)): \[([^\]]+)\] (.*?)(?: => .*)?$/gm;
  for (const m of stdout.matchAll(re)) (out[m[2]] ??= {})[m[3]] = m[1] as Status;
  return out;
}

describe(
  'relay-play run: the playbook engine on lab hosts',
  { skip: avail.ok ? false : avail.why, timeout: 300_000 },
  () => {
    let lab: Lab;
    let dir: string;
    let inventory: string;
    const started = Date.now();

    /** An inventory of web1, web2 (group web; odd = web1, even = web2), plus `vars` and extra hosts. */
    const writeInventory = (name: string, vars: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => {
      const h = lab.inventoryHosts();
      return writeYaml(dir, name, {
        all: {
          vars,
          children: {
            web: { hosts: { web1: h.web1, web2: h.web2, ...extra } },
            odd: { hosts: { web1: null } },
            even: { hosts: { web2: null } },
          },
        },
      });
    };

    /** `relay-play run PLAYBOOK -i INVENTORY ...`; no output may ever hold private key text. */
    const run = async (
      playbook: string,
      args: string[] = [],
      opts: { inventory?: string; home?: string } = {},
    ): Promise<ExecResult> => {
      const argv = ['run', playbook, '-i', opts.inventory ?? inventory, ...args];
      const r = opts.home
        ? await lab.run(['node', CLI, ...argv], { cwd: REPO, timeoutMs: 120_000, env: { HOME: opts.home } })
        : await relayPlay(lab, argv, 120_000);
      assert.doesNotMatch(r.stdout + r.stderr, /PRIVATE KEY/, `private key text in the output of ${argv.join(' ')}`);
      return r;
    };

    /** Run a command on a host as admin; it must succeed. */
    const sh = async (host: string, command: string, input?: string): Promise<string> => {
      const r = await lab.exec(host, command, { input, timeoutMs: 30_000 });
      assert.equal(r.code, 0, `${host}: ${command}\n${show(r)}`);
      return r.stdout;
    };
    const onAll = (command: string) => Promise.all(HOSTS.map((h) => sh(h, command)));
    /** Check both hosts side by side. */
    const eachHost = async (fn: (h: (typeof HOSTS)[number]) => Promise<void>) => {
      await Promise.all(HOSTS.map(fn));
    };

    /** Several commands in one root shell on a host: name → exact output (stdout and stderr). */
    const probe = async (host: string, cmds: Record<string, string>): Promise<Record<string, string>> => {
      const script = Object.entries(cmds)
        .map(([k, c]) => `echo '@@${k}'; { ${c}\n} 2>&1 | base64 -w0; echo`)
        .join('\n');
      const lines = (await sh(host, 'sudo sh -s', script)).split('\n');
      const out: Record<string, string> = {};
      for (let i = 0; i + 1 < lines.length; i += 2)
        out[lines[i].slice(2)] = Buffer.from(lines[i + 1], 'base64').toString('utf8');
      assert.deepEqual(Object.keys(out), Object.keys(cmds), `${host}: probe output`);
      return out;
    };

    // sshd's "Accepted publickey" lines for admin, minus the one of the session asking.
    const LOGINS =
      'P=$(ps -o ppid= -p $PPID | tr -d " "); sudo journalctl -u ssh --no-pager -o short | grep "Accepted publickey for admin " | grep -v "sshd\\[$P\\]:" | wc -l';
    const logins = async (host: string) => Number((await sh(host, LOGINS)).trim());
    /** Logins on `host` since `before` was counted (not counting the session that counted it). */
    const newLogins = async (host: string, before: number) => (await logins(host)) - before - 1;

    before(async () => {
      lab = await startLab([...HOSTS]);
      dir = tempDir('relay-play-engine-');
      inventory = writeInventory('inventory.yaml');
    });

    after(async () => {
      await lab?.teardown();
      if (dir) rmSync(dir, { recursive: true, force: true });
      console.log(`engine tests: ${((Date.now() - started) / 1000).toFixed(1)} s including the lab`);
    });

    it('every module: changes what it should on fresh hosts, the host has the result, a second run changes nothing', async () => {
      await onAll(
        [
          'set -e',
          'sudo mkdir -p /srv/stale/sub /srv/pre',
          'sudo touch /srv/stale/sub/f',
          "printf '# app config\\nport=80\\nname=demo\\n' | sudo tee /srv/pre/app.conf >/dev/null",
          "printf '# user top\\nuser line 1\\n# user bottom\\nlast line, no newline' | sudo tee /srv/pre/config.txt >/dev/null",
          'sudo useradd -m keyuser',
          `sudo -u keyuser sh -c 'mkdir -m 700 ~/.ssh && printf "%s\\n" "# a comment" "${KEY_C}" > ~/.ssh/authorized_keys'`,
          "sudo ssh-keygen -q -t ed25519 -N '' -C existing -f /srv/pre/id_existing",
        ].join('\n'),
      );
      const existingKey = await onAll('sudo sha256sum /srv/pre/id_existing');

      const first = await run(fx('modules.yaml'), ['--json']);
      assert.equal(first.code, 0, show(first));
      const report = JSON.parse(first.stdout);
      const tasks: { task: { name: string }; hosts: Record<string, Record<string, unknown>> }[] = report.plays[0].tasks;
      const readOnly = ['slurp', 'stat', 'openssh_keypair existing', 'getent', 'set_fact', 'debug'];
      assert.equal(tasks.length, 31, 'every task reported');
      for (const t of tasks) {
        for (const h of HOSTS) {
          assert.equal(
            t.hosts[h]?.changed,
            !readOnly.includes(t.task.name),
            `${h} "${t.task.name}" changed: ${JSON.stringify(t.hosts[h])}`,
          );
        }
      }
      const debugTask = tasks.find((t) => t.task.name === 'debug')!;
      for (const h of HOSTS) assert.equal(debugTask.hosts[h].msg, `greeting is hello ${h}`);

      await eachHost(async (h) => {
        const cat = (f: string) => `cat ${f}`;
        const p = await probe(h, {
          attrs:
            'cd /srv/engine && stat -c "%n %U %G %a" . dir cmd-made touched content.txt hello.txt motd removed dir/pwd.txt keys/id_new keys/id_new.pub',
          gone: 'test ! -e /srv/engine/to-remove && test ! -e /srv/stale && test ! -e /home/nohome-engine && echo gone',
          pwd: cat('/srv/engine/dir/pwd.txt'),
          content: cat('/srv/engine/content.txt'),
          hello: cat('/srv/engine/hello.txt'),
          motd: cat('/srv/engine/motd'),
          appConf: cat('/srv/pre/app.conf'),
          config: cat('/srv/pre/config.txt'),
          passwd: 'getent passwd svc-engine nohome-engine',
          sshAttrs:
            'stat -c "%n %U %G %a" /var/lib/svc-engine /var/lib/svc-engine/.ssh /var/lib/svc-engine/.ssh/authorized_keys /home/keyuser/.ssh/authorized_keys',
          svcKeys: cat('/var/lib/svc-engine/.ssh/authorized_keys'),
          keyuserKeys: cat('/home/keyuser/.ssh/authorized_keys'),
          unit: 'systemctl is-active engine-demo.service; systemctl is-enabled engine-demo.service',
          slurped: cat('/srv/engine/slurped'),
          debianVersion: cat('/etc/debian_version'),
          statTxt: cat('/srv/engine/stat.txt'),
          // A boolean printed in text is Python's True, as Ansible prints it.
          statReal:
            'cd /srv/engine && printf "%s True %s\\n" "$(stat -c "%U %G 0%a" touched)" "$(sha1sum < touched | cut -d" " -f1)"',
          keypairs: cat('/srv/engine/keypairs.txt'),
          keysReal:
            'for k in /srv/engine/keys/id_new /srv/pre/id_existing; do printf "%s|%s\\n" "$(cut -d" " -f1,2 $k.pub)" "$(ssh-keygen -lf $k.pub | cut -d" " -f2)"; done',
          newPub: cat('/srv/engine/keys/id_new.pub'),
          facts: cat('/srv/engine/facts.txt'),
        });
        assert.equal(
          p.attrs,
          [
            '. www-data www-data 750', // created by mkdir -p for dir: gets the same owner and mode (as Ansible)
            'dir www-data www-data 750',
            'cmd-made nobody root 600',
            'touched www-data nogroup 640',
            'content.txt www-data root 604',
            'hello.txt root root 644',
            'motd root root 644',
            'removed root root 644',
            'dir/pwd.txt root root 644',
            'keys/id_new root root 600',
            'keys/id_new.pub root root 644',
            '',
          ].join('\n'),
          h,
        );
        assert.equal(p.gone, 'gone\n', 'removes ran; file absent; create_home false');
        assert.equal(p.pwd, '/srv/engine/dir\n', 'shell ran in chdir');
        assert.equal(p.content, 'content line\n');
        assert.equal(p.hello, readFileSync(fx('files/hello.txt'), 'utf8'));
        assert.equal(p.motd, `Welcome to ${h}\nRole: frontend\nPorts: 80, 443\n`);
        assert.equal(p.appConf, '# app config\nport=8080\nworkers=4\nname=demo\n');
        assert.equal(
          p.config,
          '# user top\n# BEGIN ANSIBLE MANAGED BLOCK\nmanaged one\nmanaged two\n# END ANSIBLE MANAGED BLOCK\nuser line 1\n# user bottom\nlast line, no newline',
          'user lines outside the block untouched',
        );
        const [svc, nohome] = p.passwd
          .trim()
          .split('\n')
          .map((l) => l.split(':'));
        assert.ok(Number(svc[2]) < 1000, `system account uid: ${svc.join(':')}`);
        assert.deepEqual([svc[0], svc[5], svc[6]], ['svc-engine', '/var/lib/svc-engine', '/bin/bash']);
        assert.ok(Number(nohome[2]) >= 1000, nohome.join(':'));
        assert.deepEqual(
          [nohome[0], nohome[5], nohome[6]],
          ['nohome-engine', '/home/nohome-engine', '/usr/sbin/nologin'],
        );
        assert.equal(
          p.sshAttrs,
          '/var/lib/svc-engine svc-engine svc-engine 755\n/var/lib/svc-engine/.ssh svc-engine svc-engine 700\n/var/lib/svc-engine/.ssh/authorized_keys svc-engine svc-engine 600\n/home/keyuser/.ssh/authorized_keys keyuser keyuser 600\n',
        );
        assert.equal(p.svcKeys, `no-pty,from="198.18.0.1" ${KEY_A}\n`);
        assert.equal(p.keyuserKeys, `${KEY_B}\n`, 'exclusive removed the other lines');
        assert.equal(p.unit, 'active\nenabled\n');
        assert.equal(p.slurped, p.debianVersion);
        assert.match(p.statReal, /^www-data nogroup 0640 True [0-9a-f]{40}\n$/);
        assert.equal(p.statTxt, p.statReal, 'stat result as the host sees it');
        assert.match(p.keysReal, /^ssh-ed25519 \S+\|SHA256:\S+\nssh-ed25519 \S+\|SHA256:\S+\n$/);
        assert.equal(p.keypairs, p.keysReal, 'openssh_keypair results: public key and fingerprint');
        assert.match(p.newPub, new RegExp(`^ssh-ed25519 \\S+ engine ${h}\\n$`));
        assert.equal(p.facts, `hello ${h}|/var/lib/svc-engine /bin/bash\n`, 'set_fact from getent');
      });
      const newKey = await onAll('sudo sha256sum /srv/engine/keys/id_new');

      const second = await run(fx('modules.yaml'));
      assert.equal(second.code, 0, show(second));
      const stats = recap(second.stdout);
      assert.deepEqual(Object.keys(stats), [...HOSTS]);
      for (const h of HOSTS)
        assert.deepEqual(
          stats[h],
          { ok: 31, changed: 0, unreachable: 0, failed: 0, skipped: 0 },
          `${h}: ${show(second)}`,
        );
      assert.deepEqual(
        await onAll('sudo sha256sum /srv/pre/id_existing'),
        existingKey,
        'an existing key is never overwritten',
      );
      assert.deepEqual(await onAll('sudo sha256sum /srv/engine/keys/id_new'), newKey, 'a generated key is kept');
    });

    it('systemd enabled: a running service disabled by hand is enabled by one run, and the next finds nothing to do', async () => {
      await onAll('sudo systemctl disable engine-demo.service');
      const playbook = writeYaml(dir, 'enable.yaml', [
        {
          hosts: 'all',
          become: true,
          tasks: [{ name: 'enabled', systemd: { name: 'engine-demo.service', enabled: true } }],
        },
      ]);
      const first = await run(playbook);
      assert.equal(first.code, 0, show(first));
      for (const h of HOSTS) assert.equal(recap(first.stdout)[h]?.changed, 1, `${h}: ${show(first)}`);
      // What the next run reads: systemd's own UnitFileState, not only the symlink on disk.
      assert.deepEqual(
        await onAll(
          'systemctl show -p UnitFileState --value engine-demo.service; systemctl is-active engine-demo.service',
        ),
        HOSTS.map(() => 'enabled\nactive\n'),
      );
      const second = await run(playbook);
      assert.equal(second.code, 0, show(second));
      for (const h of HOSTS) assert.equal(recap(second.stdout)[h]?.changed, 0, `${h}: ${show(second)}`);
    });

    it('--check --diff after drift shows the diffs and changes nothing; --check on fresh paths creates nothing', async () => {
      const drift = writeInventory('drift.yaml', { base: '/srv/drift', account: 'drift-user' });
      const fresh = writeInventory('fresh.yaml', { base: '/srv/fresh', account: 'fresh-user' });
      // The real run, and beside it a --check on paths that do not exist: every task would change,
      // nothing is created.
      const [apply, dry] = await Promise.all([
        run(fx('files.yaml'), [], { inventory: drift }),
        run(fx('files.yaml'), ['--check'], { inventory: fresh }),
      ]);
      assert.equal(apply.code, 0, show(apply));
      assert.equal(dry.code, 0, show(dry));
      for (const h of HOSTS)
        assert.deepEqual(
          recap(dry.stdout)[h],
          { ok: 12, changed: 12, unreachable: 0, failed: 0, skipped: 0 },
          show(dry),
        );
      await eachHost(async (h) => {
        const r = await lab.exec(
          h,
          'ls -d /srv/fresh /etc/systemd/system/fresh-user.service; getent passwd fresh-user; systemctl show -p LoadState --value fresh-user.service',
        );
        assert.equal(r.stdout, 'not-found\n', `${h}: ${show(r)}`);
      });

      // By hand, on web1 only: 8 of the 12 tasks now have something to fix.
      await sh(
        'web1',
        `sudo sh -e -c 'cd /srv/drift
        chmod 0700 .
        printf "one\\nTWO\\nthree\\n" > copied.txt
        echo hand >> motd
        sed -i s/level=info/level=debug/ app.conf
        sed -i s/managed=yes/managed=no/ block.conf
        chmod 0600 flag
        : > home/.ssh/authorized_keys
        systemctl stop drift-user.service'`,
      );
      const SNAPSHOT =
        'sudo sh -c \'find /srv/drift /etc/systemd/system/drift-user.service -exec stat -c "%n %F %U %G %a %s %Y" {} + | sort; find /srv/drift -type f -exec sha256sum {} + | sort; systemctl is-active drift-user.service; getent passwd drift-user\'';
      const before = await Promise.all(HOSTS.map((h) => lab.exec(h, SNAPSHOT)));

      const check = await run(fx('files.yaml'), ['--check', '--diff'], { inventory: drift });
      assert.equal(check.code, 0, show(check));
      const stats = recap(check.stdout);
      assert.equal(stats.web1.changed, 8, show(check));
      assert.equal(stats.web2.changed, 0, show(check));
      const st = statuses(check.stdout).web1;
      for (const t of [
        'base directory',
        'copied file',
        'templated file',
        'a line',
        'a block',
        'a flag file',
        'its key',
        'the unit started',
      ]) {
        assert.equal(st[t], 'changed', `${t}: ${show(check)}`);
      }
      for (const line of [
        '--- before: /srv/drift/copied.txt',
        '+++ after: /srv/drift/copied.txt',
        '-TWO',
        '+two',
        '-hand',
        '-level=debug',
        '+level=info',
        '-managed=no',
        '+managed=yes',
        '-mode: 0600',
        '+mode: 0640',
        '-mode: 0700',
        '+mode: 0755',
      ]) {
        assert.ok(check.stdout.split('\n').includes(line), `diff line ${JSON.stringify(line)}: ${show(check)}`);
      }
      const afterCheck = await Promise.all(HOSTS.map((h) => lab.exec(h, SNAPSHOT)));
      assert.deepEqual(afterCheck, before, 'check mode changed nothing');
      assert.match(afterCheck[0].stdout, /^inactive$/m, 'the stopped unit is still stopped');

      // What check mode predicted is what a real run does.
      const fix = await run(fx('files.yaml'), [], { inventory: drift });
      assert.equal(fix.code, 0, show(fix));
      assert.equal(recap(fix.stdout).web1.changed, 8, show(fix));
      assert.equal(recap(fix.stdout).web2.changed, 0, show(fix));
      assert.deepEqual(
        await probe('web1', { copied: 'cat /srv/drift/copied.txt', unit: 'systemctl is-active drift-user.service' }),
        { copied: 'one\ntwo\nthree\n', unit: 'active\n' },
      );
    });

    it('become: admin without it, root with it, become_user as that user; a root-only read fails without it', async () => {
      const r = await run(fx('become.yaml'));
      assert.equal(r.code, 2, show(r));
      const stats = recap(r.stdout);
      await eachHost(async (h) => {
        assert.deepEqual(stats[h], { ok: 9, changed: 7, unreachable: 0, failed: 1, skipped: 0 }, show(r));
        assert.match(
          r.stdout,
          new RegExp(
            `^fatal: \\[${h}\\] read a root-only file without become => FAILED! .*/etc/shadow.*Permission denied`,
            'm',
          ),
        );
        assert.equal(statuses(r.stdout)[h]['read a root-only file with become'], 'ok');
        assert.equal(
          await sh(
            h,
            'cd /tmp/become && stat -c "%n %U" as-play-root as-task-admin as-admin as-root as-www-data && cat whoami && ls',
          ),
          'as-play-root root\nas-task-admin admin\nas-admin admin\nas-root root\nas-www-data www-data\nwww-data\nas-admin\nas-play-root\nas-root\nas-task-admin\nas-www-data\nwhoami\n',
        );
      });
    });

    it('an unreachable host: exit 4, unreachable=1 with the SSH error, the other hosts finish', async () => {
      const inv = writeInventory(
        'ghost.yaml',
        {},
        { ghost: { ...lab.inventoryHosts().web1, ansible_host: '198.18.0.99' } },
      );
      const r = await run(fx('unreachable.yaml'), ['--forks', '3'], { inventory: inv });
      assert.equal(r.code, 4, show(r));
      const stats = recap(r.stdout);
      assert.deepEqual(stats.ghost, { ok: 0, changed: 0, unreachable: 1, failed: 0, skipped: 0 }, show(r));
      for (const h of HOSTS)
        assert.deepEqual(stats[h], { ok: 3, changed: 3, unreachable: 0, failed: 0, skipped: 0 }, show(r));
      assert.match(
        r.stdout,
        /^fatal: \[ghost\] one => UNREACHABLE! .*198\.18\.0\.99.*(EHOSTUNREACH|ETIMEDOUT|timed out)/m,
        show(r),
      );
      for (const h of HOSTS)
        assert.equal(
          await sh(h, 'cat /tmp/unreachable/three; test -e /tmp/unreachable/two && echo two'),
          `${h}\ntwo\n`,
        );
    });

    it('a failed task: exit 2, that host stops, the other goes on; ignore_errors, failed_when, changed_when, handlers', async () => {
      const r = await run(fx('failures.yaml'));
      assert.equal(r.code, 2, show(r));
      const stats = recap(r.stdout);
      // As ansible-playbook: the ignored failure (a command that ran) counts as changed too.
      assert.deepEqual(stats.web1, { ok: 6, changed: 5, unreachable: 0, failed: 1, skipped: 0 }, show(r));
      assert.deepEqual(stats.web2, { ok: 11, changed: 9, unreachable: 0, failed: 0, skipped: 0 }, show(r));
      assert.match(
        r.stdout,
        /^fatal: \[web1\] fail on web1 => FAILED! failed_when condition is true: 'web1' in me\.stdout$/m,
        show(r),
      );
      for (const h of HOSTS) {
        const st = statuses(r.stdout)[h];
        assert.equal(st['ignored failure'], 'failed (ignored)');
        assert.equal(st['failed_when false on a non-zero rc'], 'changed', 'not failed');
        assert.equal(st['changed_when false'], 'ok');
        assert.equal(st['changed_when true on a read-only module'], 'changed');
      }
      const st2 = statuses(r.stdout).web2;
      assert.equal(st2['fail on web1'], 'changed');
      assert.equal(st2['record handler'], 'changed');
      assert.equal(st2['unnotified handler'], undefined);
      // The handler notified twice ran once, after the last task; none ran on the failed host.
      assert.equal(r.stdout.match(/\] record handler$/gm)?.length, 1, show(r));
      assert.ok(r.stdout.indexOf('[web2] record handler') > r.stdout.indexOf('[web2] not notifying'), show(r));
      const ls = 'cd /tmp/failures && ls && cat handler.log 2>/dev/null || true';
      assert.equal(
        await sh('web1', ls),
        'after-ignored\nchanged-when-false\n',
        'web1 stopped at the failure; no handler',
      );
      assert.equal(
        await sh('web2', ls),
        'after-failure\nafter-ignored\nchanged-when-false\nhandler-two\nhandler.log\nran\n',
      );
    });

    it('bad input stops the run before any host is touched, with one error line naming file:line:col', async () => {
      const at = (file: string, text: string) => {
        const lines = readFileSync(fx(`bad/${file}`), 'utf8').split('\n');
        const i = lines.findIndex((l) => l.includes(text));
        assert.ok(i >= 0, `${text} in ${file}`);
        return `${fx(`bad/${file}`)}:${i + 1}:${lines[i].indexOf(text) + 1}: `;
      };
      // The exit code is ansible-playbook's: 4 what its parser refuses, 2 a task that could only fail, else 1.
      const cases: { args: string[]; prefix: string; msg: RegExp; exit?: number }[] = [
        {
          args: [fx('bad/syntax.yaml')],
          prefix: at('syntax.yaml', '"no closing quote'),
          msg: /YAML syntax error: Missing closing "quote/,
          exit: 4,
        },
        {
          args: [fx('bad/unknown-module.yaml')],
          prefix: at('unknown-module.yaml', 'copyy'),
          msg: /unknown module "copyy"/,
          exit: 4,
        },
        {
          args: [fx('bad/unknown-arg.yaml')],
          prefix: at('unknown-arg.yaml', 'mdoe'),
          msg: /unsupported argument "mdoe" for module copy/,
          exit: 2,
        },
        {
          args: [fx('bad/wrong-type.yaml')],
          prefix: at('wrong-type.yaml', '[/tmp/a'),
          msg: /argument "dest" must be string/,
          exit: 2,
        },
        // --limit is not in a file: the message names the option and the pattern instead. (A name that
        // matches nothing beside one that does is only warned of, as by ansible-playbook: unit tests.)
        {
          args: [fx('bad/marker.yaml'), '--limit', 'nosuch'],
          prefix: '--limit nosuch: ',
          msg: /no host or group named "nosuch"/,
        },
      ];
      const loginsBefore = await Promise.all(HOSTS.map(logins));
      const results = await Promise.all(cases.map((c) => run(c.args[0], c.args.slice(1))));
      results.forEach((r, i) => {
        const c = cases[i];
        assert.equal(r.code, c.exit ?? 1, `${c.args.join(' ')}: ${show(r)}`);
        assert.equal(r.stdout, '', show(r));
        const lines = r.stderr.trimEnd().split('\n');
        assert.equal(lines.filter((l) => l.startsWith('error: ')).length, 1, show(r));
        assert.ok(lines[0].startsWith(`error: ${c.prefix}`), `expected "error: ${c.prefix}...": ${show(r)}`);
        assert.match(lines[0], c.msg);
        assert.match(lines[1] ?? '', /^ {2}hint: \S/, show(r));
        assert.equal(lines.length, 2, show(r));
      });
      const loginsAfter = await Promise.all(HOSTS.map((h, i) => newLogins(h, loginsBefore[i])));
      assert.deepEqual(loginsAfter, [0, 0], 'no SSH login at all');
      for (const h of HOSTS)
        assert.equal((await lab.exec(h, 'ls /tmp/bad-input-marker')).code, 2, `${h}: marker must not exist`);
    });

    it('hostile values in paths, content and command args reach the host quoted; no payload ran on any host or on the runner', async () => {
      // The fixture's payloads name their files PWNED...; with a token of this run's instead, so only
      // this run's files can match.
      const token = markerToken();
      const playbook = writeYaml(
        dir,
        'inject.yaml',
        readFileSync(fx('inject.yaml'), 'utf8').replaceAll('PWNED', `PWNED-${token}`),
      );
      const Q = `x'; touch /tmp/PWNED-${token}-$(id -u); touch PWNED-${token}-here #`;
      const S = `$(touch /tmp/PWNED-${token}2)`;
      const N = 'first\nsecond';
      const r = await run(playbook);
      assert.equal(r.code, 0, show(r));
      const listing = `cd /tmp/inject && find . -mindepth 1 -print0 | while IFS= read -r -d '' f; do
      printf '%s %s %s\\n' "$(printf '%s' "\${f#./}" | base64 -w0)" "$(stat -c '%U:%a' -- "$f")" "$(if [ -f "$f" ]; then base64 -w0 -- "$f"; else echo dir; fi)"
    done`;
      await eachHost(async (h) => {
        const found: Record<string, string> = {};
        for (const line of (await sh(h, 'bash -s', listing)).trim().split('\n')) {
          const [name, attrs, content] = line.split(' ');
          found[Buffer.from(name, 'base64').toString('utf8')] =
            `${attrs} ${content === 'dir' ? 'dir' : Buffer.from(content ?? '', 'base64').toString('utf8')}`;
        }
        const block = `# BEGIN ANSIBLE MANAGED BLOCK\n${S}\n${Q}\n# END ANSIBLE MANAGED BLOCK\n`;
        assert.deepEqual(found, {
          printed: `admin:644 ${Q}\n${S}\n${N}`,
          slurped: `admin:644 ${Q}|${S}|${N}`,
          '$(touch ': 'admin:750 dir',
          '$(touch /tmp': 'admin:750 dir',
          [S]: 'admin:750 dir',
          [`${S}/${N}`]: `admin:644 ${Q}|${S}|${N}`,
          [`${S}/as root ${N}`]: `root:644 ${Q}`,
          [`${S}/argv ${N}`]: 'admin:644 ',
          [`${S}/lines`]: `admin:644 ${Q} ${S}\n`,
          "x'; touch ": 'admin:755 dir',
          "x'; touch /tmp": 'admin:755 dir',
          [Q]: 'admin:755 dir',
          [`${Q}/${N}`]: 'admin:600 ',
          [`${Q}/block`]: `admin:644 ${block}`,
        });
      });
      // Files named by the payloads exist only as the data above, in /tmp/inject.
      assert.deepEqual(
        await findMarkers(lab, [...HOSTS], token, { expected: ['/tmp/inject'] }),
        [],
        'injected commands ran',
      );
    });

    it('--json prints one JSON object; no_log values and private keys never appear in any mode', async () => {
      const SECRET = 'S3CRET-nolog-9f2c';
      const modes = [['--diff'], ['-v', '--diff'], ['--json', '--diff']];
      // The three modes side by side, each in its own directory (so each generates a key pair).
      const dirs = modes.map((_, i) => `/tmp/json-${i}`);
      const results = await Promise.all(
        modes.map((args, i) =>
          run(fx('json.yaml'), args, { inventory: writeInventory(`json-${i}.yaml`, { json_dir: dirs[i] }) }),
        ),
      );
      for (const [i, r] of results.entries()) {
        const what = modes[i].join(' ');
        assert.equal(r.code, 0, `${what}: ${show(r)}`);
        assert.ok(!(r.stdout + r.stderr).includes(SECRET), `${what}: the no_log secret leaked: ${show(r)}`);
        if (modes[i].includes('-v')) assert.match(r.stdout, /visible-web1/, 'the verbose output does show results');
      }
      await eachHost(async (h) => {
        for (const [i, r] of results.entries()) {
          // The secret did reach the host, so the runner had it in hand; so did the private key.
          const [secret, pub, ...key] = (
            await sh(
              h,
              `sudo sh -c 'cat ${dirs[i]}/secret; cut -d" " -f1,2 ${dirs[i]}/id_json.pub; grep -v -- ----- ${dirs[i]}/id_json'`,
            )
          )
            .trim()
            .split('\n');
          assert.equal(secret, SECRET);
          assert.match(pub, /^ssh-ed25519 \S+$/);
          const body = key.filter((l) => l.length > 16);
          assert.ok(body.length >= 3, key.join('\n'));
          for (const l of body)
            assert.ok(
              !(r.stdout + r.stderr).includes(l),
              `${modes[i].join(' ')}: private key material of ${h} in the output`,
            );
          if (modes[i].includes('-v')) assert.ok(r.stdout.includes(pub), `-v shows the public key: ${show(r)}`);
        }
      });

      const r = results[2];
      assert.equal(r.stderr, '', r.stderr);
      assert.ok(r.stdout.startsWith('{') && r.stdout.endsWith('}\n'), 'only the object on stdout');
      const out = JSON.parse(r.stdout); // throws on any other text
      assert.deepEqual(Object.keys(out).sort(), ['plays', 'stats']);
      assert.equal(out.plays.length, 1);
      const tasks: { task: { name: string }; hosts: Record<string, Record<string, unknown>> }[] = out.plays[0].tasks;
      assert.equal(tasks.length, 10);
      await eachHost(async (h) => {
        const res = (name: string) => tasks.find((t) => t.task.name === name)!.hosts[h];
        assert.deepEqual(
          { rc: res('visible').rc, stdout: res('visible').stdout, changed: res('visible').changed },
          { rc: 0, stdout: `visible-${h}`, changed: true },
        );
        assert.equal(res('skipped').skipped, true);
        assert.equal(res('secret on stdout and stderr, failing').failed, true);
        // As Ansible's json callback: an ignored failure is failed there (the recap counts it ignored), and
        // a command that ran and failed changed something.
        assert.equal(res('secret on stdout and stderr, failing').ignored, undefined);
        assert.equal(res('secret on stdout and stderr, failing').changed, true);
        assert.match(String(res('secret in a file (would be in the diff)').censored), /no_log/);
        const pub = (await sh(h, `cut -d" " -f1,2 ${dirs[2]}/id_json.pub`)).trim();
        assert.equal(res('a private key generated on the host').public_key, pub);
        assert.match(String(res('a private key generated on the host').fingerprint), /^SHA256:/);
        assert.equal(res('its public half').msg, pub);
        // stats agree with the per-task results.
        const mine = tasks.map((t) => t.hosts[h]);
        const expected = {
          ok: mine.filter((x) => !x.skipped && !x.failed).length + out.stats[h].ignored,
          changed: mine.filter((x) => x.changed).length,
          failures: mine.filter((x) => x.failed).length - out.stats[h].ignored,
          unreachable: mine.filter((x) => x.unreachable).length,
          skipped: mine.filter((x) => x.skipped).length,
        };
        const { ok, changed, failures, unreachable, skipped } = out.stats[h];
        assert.deepEqual({ ok, changed, failures, unreachable, skipped }, expected, h);
        assert.deepEqual(expected, { ok: 9, changed: 6, failures: 0, unreachable: 0, skipped: 1 });
        assert.equal(out.stats[h].ignored, 2);
      });
    });

    /** Which hosts have each of `paths`: one read per host. */
    const holders = async (paths: string[]): Promise<string[][]> => {
      const has = await Promise.all(
        HOSTS.map(async (h) =>
          (await sh(h, `for f in ${paths.join(' ')}; do test -e "$f" && echo y || echo n; done`)).split('\n'),
        ),
      );
      return paths.map((_, i) => HOSTS.filter((_h, k) => has[k][i] === 'y'));
    };

    it('--limit: a:b, a:!b, a:&b and group names select the hosts', async () => {
      const patterns = [
        ['web1:web2', ['web1', 'web2']],
        ['web:!web2', ['web1']],
        ['even', ['web2']],
        ['web:&odd', ['web1']],
      ] as const;
      const markers = patterns.map((_, i) => `/tmp/limit-${i}`);
      const results = await Promise.all(
        patterns.map(([pattern], i) =>
          run(fx('limit.yaml'), ['--limit', pattern], {
            inventory: writeInventory(`limit-${i}.yaml`, { marker: markers[i] }),
          }),
        ),
      );
      const touched = await holders(markers);
      for (const [i, [pattern, want]] of patterns.entries()) {
        const r = results[i];
        assert.equal(r.code, 0, show(r));
        assert.deepEqual(Object.keys(recap(r.stdout)), want, `${pattern}: ${show(r)}`);
        assert.deepEqual(touched[i], want, `${pattern}: the hosts changed`);
      }
    });

    it('host keys: unknown refused unless --accept-new-host-keys (then recorded); a changed key always refused', async () => {
      const home = (name: string, knownHosts: string) => {
        const d = join(dir, name);
        mkdirSync(join(d, '.ssh'), { recursive: true, mode: 0o700 });
        writeFileSync(join(d, '.ssh', 'known_hosts'), knownHosts);
        return d;
      };
      const knownHosts = (d: string) => readFileSync(join(d, '.ssh', 'known_hosts'), 'utf8');
      const ip = (h: string) => lab.hosts[h].ip;
      const fresh = home('home-fresh', '');
      // web1's line holds a key that is not its host key (the admin key, as good as any other).
      const wrongLine = `${ip('web1')} ${readFileSync(`${lab.adminKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`;
      const wrong = home('home-wrong', wrongLine);
      const [inv1, inv2, inv3] = ['keys-1', 'keys-2', 'keys-3'].map((m) =>
        writeInventory(`${m}.yaml`, { marker: `/tmp/${m}` }),
      );

      const [refused, changed] = await Promise.all([
        run(fx('limit.yaml'), [], { inventory: inv1, home: fresh }),
        run(fx('limit.yaml'), ['--accept-new-host-keys'], { inventory: inv2, home: wrong }),
      ]);
      assert.equal(refused.code, 4, show(refused));
      for (const h of HOSTS) {
        assert.deepEqual(
          recap(refused.stdout)[h],
          { ok: 0, changed: 0, unreachable: 1, failed: 0, skipped: 0 },
          show(refused),
        );
        assert.ok(
          refused.stdout.includes(
            `fatal: [${h}] marker => UNREACHABLE! host key for ${ip(h)} is not in ${fresh}/.ssh/known_hosts`,
          ),
          show(refused),
        );
      }
      assert.match(refused.stdout, /--accept-new-host-keys/);
      assert.equal(knownHosts(fresh), '', 'nothing recorded without the option');

      assert.equal(changed.code, 4, show(changed));
      assert.deepEqual(
        recap(changed.stdout).web1,
        { ok: 0, changed: 0, unreachable: 1, failed: 0, skipped: 0 },
        show(changed),
      );
      assert.match(
        changed.stdout,
        new RegExp(
          `^fatal: \\[web1\\] marker => UNREACHABLE! REMOTE HOST KEY HAS CHANGED for ${ip('web1').replace(/\./g, '\\.')}`,
          'm',
        ),
      );
      assert.deepEqual(
        recap(changed.stdout).web2,
        { ok: 1, changed: 1, unreachable: 0, failed: 0, skipped: 0 },
        'web2 is new: accepted',
      );
      assert.ok(knownHosts(wrong).startsWith(wrongLine), 'the old line is kept');

      const accepted = await run(fx('limit.yaml'), ['--accept-new-host-keys'], { inventory: inv3, home: fresh });
      assert.equal(accepted.code, 0, show(accepted));
      const recorded = knownHosts(fresh).trim().split('\n').sort();
      assert.equal(recorded.length, 2, recorded.join('\n'));
      await eachHost(async (h) => {
        const real = (await sh(h, 'cat /etc/ssh/ssh_host_*_key.pub'))
          .trim()
          .split('\n')
          .map((l) => l.split(' ').slice(0, 2).join(' '));
        const line = recorded.find((l) => l.startsWith(`${ip(h)} `));
        assert.ok(line && real.includes(line.split(' ').slice(1).join(' ')), `${h}: recorded ${line}`);
      });
      const known = await run(fx('limit.yaml'), [], { inventory: inv3, home: fresh });
      assert.equal(known.code, 0, `recorded keys are trusted next time: ${show(known)}`);
      assert.deepEqual(knownHosts(fresh).trim().split('\n').sort(), recorded, 'nothing more recorded');
      assert.deepEqual(
        await holders(['/tmp/keys-1', '/tmp/keys-2', '/tmp/keys-3']),
        [[], ['web2'], [...HOSTS]],
        'only accepted hosts were changed',
      );
    });

    it('one SSH connection per host for a run of many tasks', async () => {
      const before = await Promise.all(HOSTS.map(logins));
      const r = await run(fx('many.yaml'));
      assert.equal(r.code, 0, show(r));
      for (const h of HOSTS) assert.equal(recap(r.stdout)[h].ok, 7, show(r));
      // sshd may log a moment after the run: poll until the login shows (each poll is a login too), then count.
      let counts: number[] = [];
      let polls = 0;
      await waitFor('the run in the ssh journal', 5_000, async () => {
        const now = await Promise.all(HOSTS.map(logins));
        counts = now.map((n, i) => n - before[i] - 1 - polls);
        polls++;
        return counts.every((c) => c >= 1);
      });
      assert.deepEqual(counts, [1, 1], 'exactly one new login per host');
    });
  },
);
