// Playbooks as an Ansible user writes them, on real lab hosts (issue 15): the same playbook and role
// (Jinja arguments, default, a loop over dict2items, include_tasks, import_tasks, tags, assert, a .j2
// template with a for loop, apt installing a .deb built here, service, handlers) run by relay-play on
// web1 and by ansible-playbook on web2 must leave both hosts in the same state.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { labAvailable, startLab, type Lab } from './lab/index.js';
import { recap, relayPlay, show, tempDir, writeYaml } from './integration/util.js';

const avail = labAvailable();
const ansible = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' }).status === 0;
// On CI ansible-core is installed (scripts/install-deps): there a missing one is a failure, not a skip.
const ansibleRequired = process.env.CI === 'true' || process.env.RELAY_PLAY_LAB_REQUIRED === '1';

describe('plain Ansible playbooks on lab hosts', { skip: avail.ok ? false : avail.why, timeout: 900_000 }, () => {
  let lab: Lab;
  let dir: string;
  let inventory: string;

  before(async () => {
    lab = await startLab(['web1', 'web2']);
    dir = tempDir();
    inventory = writeYaml(dir, 'inventory.yaml', { all: { hosts: lab.inventoryHosts() } });
  });

  after(async () => {
    await lab?.teardown();
  });

  it('a secret copied with no_log is in no process command line on the host and in no journal', async () => {
    const secret = `s3cr3t-${Math.random().toString(36).slice(2)}-token`;
    const content = `password=${secret}\n`;
    // Base64 of the content as the old transport sent it (and of the secret, at each alignment).
    const forms = [
      secret,
      Buffer.from(content).toString('base64').slice(0, 24),
      ...[0, 1, 2].map((k) =>
        Buffer.from('xx'.slice(0, k) + secret)
          .toString('base64')
          .slice(4, 20),
      ),
    ];
    // A control on the same run: a command line that does carry a marker must be seen by the sampler.
    const marker = `visible-${Math.random().toString(36).slice(2)}`;
    const pb = writeYaml(dir, 'secret.yaml', [
      {
        hosts: 'web1',
        gather_facts: false,
        become: true,
        tasks: [
          // Notifying makes the write travel with the handler's marker in one batch; validate keeps
          // the write's processes alive long enough to be sampled for sure.
          {
            name: 'secret file',
            copy: { content, dest: '/etc/app-secret', mode: '0600', validate: 'sleep 1.5; test -s %s' },
            no_log: true,
            notify: 'done',
          },
          { name: 'control', command: { argv: ['sh', '-c', 'sleep 1.5', marker] } },
        ],
        handlers: [{ name: 'done', debug: { msg: 'written' } }],
      },
    ]);
    // The patterns go in a file: on the sampler's own command line they would be found there.
    await lab.exec('web1', 'rm -f /tmp/seen /tmp/stop-sampling; cat > /tmp/patterns', {
      input: [...forms, marker].join('\n') + '\n',
    });
    // Any local user can read every process's command line: sample them all, all the time.
    const sampler = lab.exec(
      'web1',
      `n=0; until [ -e /tmp/stop-sampling ]; do n=$((n+1)); cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | grep -F -f /tmp/patterns >> /tmp/seen; done; echo "$n samples"`,
      { timeoutMs: 120_000 },
    );
    const r = await relayPlay(lab, ['run', pb, '-i', inventory]);
    await lab.exec('web1', 'touch /tmp/stop-sampling');
    const samples = await sampler;
    assert.equal(r.code, 0, show(r));
    assert.equal(recap(r.stdout).web1.changed, 2, show(r));
    assert.equal((await lab.exec('web1', 'sudo cat /etc/app-secret')).stdout, content);
    const seen = (await lab.exec('web1', 'cat /tmp/seen')).stdout;
    assert.ok(seen.includes(marker), `the sampler sees command lines (${samples.stdout.trim()}): ${seen}`);
    for (const f of forms) assert.ok(!seen.includes(f), `"${f}" in a command line on the host:\n${seen}`);
    const journal = await lab.exec('web1', 'sudo journalctl -q --no-pager -o cat');
    assert.match(journal.stdout, /COMMAND=/, 'sudo logs its commands to the journal');
    for (const f of forms) assert.ok(!journal.stdout.includes(f), `"${f}" in the journal`);
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'not in the output either');
  });

  it("a {% %} mistake in a .j2 template: error at the template's line and column, exit 2, no host touched", async () => {
    const tdir = join(dir, 'bad-template');
    mkdirSync(join(tdir, 'templates'), { recursive: true });
    writeFileSync(
      join(tdir, 'templates', 'bad.conf.j2'),
      '# header\n{% for p in ports %}\nlisten {{ p }}\n{% endif %}\n',
    );
    const pb = writeYaml(tdir, 'pb.yml', [
      {
        hosts: 'web1',
        gather_facts: false,
        vars: { ports: [80] },
        tasks: [{ name: 't', template: { src: 'bad.conf.j2', dest: '/tmp/bad.conf' } }],
      },
    ]);
    // sshd logs each login; the count itself is one.
    const logins = async () =>
      Number(
        (
          await lab.exec('web1', "sudo journalctl -u ssh --no-pager -o cat | grep -c '^Accepted publickey'")
        ).stdout.trim(),
      );
    const before = await logins();
    const r = await relayPlay(lab, ['run', pb, '-i', inventory]);
    const after = await logins();
    // A task that can only fail exits as ansible-playbook's failed task does: 2 (1524d10).
    assert.equal(r.code, 2, show(r));
    assert.match(
      r.stderr,
      new RegExp(
        `^error: ${join(tdir, 'templates', 'bad.conf.j2')}:4:1: template syntax error: "\\{% endif %\\}" without a matching opening tag\\n  hint: `,
        'm',
      ),
      show(r),
    );
    assert.equal(after - before, 1, 'only the count logged in');
  });

  describe('a plain Ansible playbook and role', () => {
    let pb: string;
    const TOOL = 'demo-tool_1.0_all.deb';

    before(() => {
      // The package: a tool and a systemd unit, built here with dpkg-deb.
      const pkg = join(dir, 'pkg');
      mkdirSync(join(pkg, 'DEBIAN'), { recursive: true });
      mkdirSync(join(pkg, 'usr/bin'), { recursive: true });
      mkdirSync(join(pkg, 'lib/systemd/system'), { recursive: true });
      writeFileSync(
        join(pkg, 'DEBIAN/control'),
        'Package: demo-tool\nVersion: 1.0\nArchitecture: all\nMaintainer: relay-play tests <tests@example.invalid>\nDescription: a tool for the playbook test\n',
      );
      writeFileSync(join(pkg, 'usr/bin/demo-tool'), '#!/bin/sh\necho "demo-tool 1.0"\n');
      chmodSync(join(pkg, 'usr/bin/demo-tool'), 0o755);
      writeFileSync(
        join(pkg, 'lib/systemd/system/demo.service'),
        '[Unit]\nDescription=demo\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n',
      );
      const role = join(dir, 'roles', 'demo');
      for (const d of ['tasks', 'handlers', 'defaults', 'templates', 'files'])
        mkdirSync(join(role, d), { recursive: true });
      const built = spawnSync('dpkg-deb', ['--root-owner-group', '--build', pkg, join(role, 'files', TOOL)], {
        encoding: 'utf8',
      });
      assert.equal(built.status, 0, built.stderr);

      writeFileSync(join(role, 'defaults/main.yml'), 'conf_dir: /etc/demo\ntool_version: "1.0"\nextra_lines: []\n');
      writeFileSync(
        join(role, 'handlers/main.yml'),
        '- name: restart demo\n  ansible.builtin.service: {name: demo, state: restarted}\n',
      );
      writeFileSync(
        join(role, 'templates/demo.conf.j2'),
        "# demo on {{ ansible_distribution }} ({{ ansible_os_family }})\n{% for item in settings | dict2items %}\n{{ item.key }} = {{ item.value }}\n{% endfor %}\n{% if extra_lines %}\n{{ extra_lines | join('\\n') }}\n{% endif %}\n",
      );
      writeFileSync(
        join(role, 'tasks/users.yml'),
        stringify([
          {
            name: 'service account',
            'ansible.builtin.user': {
              name: '{{ app_user }}',
              system: true,
              shell: '/usr/sbin/nologin',
              create_home: false,
            },
          },
        ]),
      );
      writeFileSync(
        join(role, 'tasks/config.yml'),
        stringify([
          {
            name: 'config directory',
            'ansible.builtin.file': {
              path: '{{ conf_dir }}',
              state: 'directory',
              owner: 'root',
              group: '{{ app_user }}',
              mode: '0750',
            },
          },
          {
            name: 'main configuration',
            'ansible.builtin.template': {
              src: 'demo.conf.j2',
              dest: '{{ conf_dir }}/demo.conf',
              owner: 'root',
              group: '{{ app_user }}',
              mode: "{{ conf_mode | default('0640') }}",
            },
            notify: 'restart demo',
          },
          {
            name: 'settings in the environment file',
            'ansible.builtin.lineinfile': {
              path: '{{ conf_dir }}/environment',
              regexp: '^{{ item.key | upper }}=',
              line: '{{ item.key | upper }}={{ item.value }}',
              create: true,
              owner: 'root',
              group: '{{ app_user }}',
              mode: '0640',
            },
            loop: '{{ settings | dict2items }}',
            notify: 'restart demo',
          },
        ]),
      );
      writeFileSync(
        join(role, 'tasks/main.yml'),
        stringify([
          { name: 'service account', 'ansible.builtin.include_tasks': 'users.yml' },
          {
            name: 'package file',
            'ansible.builtin.copy': {
              src: TOOL,
              dest: `/var/cache/${TOOL}`,
              owner: 'root',
              group: 'root',
              mode: '0644',
            },
            tags: ['packages'],
          },
          { name: 'package installed', 'ansible.builtin.apt': { deb: `/var/cache/${TOOL}` }, tags: ['packages'] },
          { 'ansible.builtin.import_tasks': 'config.yml', tags: ['config'] },
          { name: 'service running', 'ansible.builtin.service': { name: 'demo', state: 'started', enabled: true } },
          // Read-only: it runs in check mode too (as an Ansible user writes it), so the assert has its result.
          {
            name: 'the tool runs',
            'ansible.builtin.command': '/usr/bin/demo-tool',
            register: 'tool',
            changed_when: false,
            check_mode: false,
          },
          {
            name: 'the tool is the one built here',
            'ansible.builtin.assert': {
              that: ["tool.stdout == 'demo-tool ' ~ tool_version", 'tool.rc == 0'],
              fail_msg: 'unexpected: {{ tool.stdout }}',
            },
          },
        ]),
      );
      pb = join(dir, 'site.yml');
      writeFileSync(
        pb,
        stringify([
          {
            name: 'demo app',
            hosts: 'web',
            become: true,
            gather_facts: true,
            vars: { app_user: 'demo', settings: { listen_port: 8080, log_level: 'info', workers: 2 } },
            roles: ['demo'],
          },
        ]),
      );
    });

    const webInventory = (host: string, extra: Record<string, string> = {}) =>
      writeYaml(dir, `web-${host}.yaml`, {
        all: { children: { web: { hosts: { [host]: { ...lab.inventoryHosts()[host], ...extra } } } } },
      });
    const run = (...args: string[]) => relayPlay(lab, ['run', pb, '-i', webInventory('web1'), ...args]);

    // Files, owners, modes and contents; the package; the service.
    const STATE = `for f in /etc/demo /etc/demo/demo.conf /etc/demo/environment /var/cache/${TOOL} /usr/bin/demo-tool; do
  stat -c '%n %U %G %a %F' "$f"; [ -f "$f" ] && sha1sum < "$f"; done
getent passwd demo | cut -d: -f1,6,7
dpkg-query -W -f='\${Package} \${Version} \${db:Status-Abbrev}\\n' demo-tool
systemctl is-enabled demo; systemctl is-active demo`;
    const state = async (host: string) => (await lab.exec(host, 'sudo sh -s', { input: STATE })).stdout;

    it('relay-play: changes, then converges to changed=0', async () => {
      const first = await run();
      assert.equal(first.code, 0, show(first));
      assert.ok(recap(first.stdout).web1.changed >= 7, show(first));
      const second = await run();
      assert.equal(second.code, 0, show(second));
      assert.equal(recap(second.stdout).web1.changed, 0, show(second));
      assert.match(await state('web1'), /demo-tool 1\.0 ii/);
    });

    it('--check --diff after drift shows the fix and changes nothing; a run fixes it', async () => {
      await lab.exec(
        'web1',
        "sudo sh -c 'sed -i s/workers/threads/ /etc/demo/demo.conf; chmod 0644 /etc/demo/environment'",
      );
      const drifted = await state('web1');
      const check = await run('--check', '--diff');
      assert.equal(check.code, 0, show(check));
      assert.match(check.stdout, /^-threads = 2$/m, show(check));
      assert.match(check.stdout, /^\+workers = 2$/m, show(check));
      assert.match(check.stdout, /^\+mode: 0640$/m, show(check));
      assert.equal(await state('web1'), drifted, '--check changed nothing');
      const fix = await run();
      assert.equal(recap(fix.stdout).web1.changed, 3, show(fix)); // template, lineinfile (mode), handler
    });

    it('--tags config runs only the configuration (and facts), --list-tasks lists them', async () => {
      const tagged = await run('--tags', 'config', '-v');
      assert.equal(tagged.code, 0, show(tagged));
      const ran = [...tagged.stdout.matchAll(/^(?:ok|changed|skipping): \[web1\] (.*)$/gm)].map((m) => m[1]);
      assert.deepEqual(ran, [
        'Gathering Facts',
        'demo : config directory',
        'demo : main configuration',
        'demo : settings in the environment file',
      ]);
      const list = await run('--list-tasks', '--skip-tags', 'packages');
      assert.match(
        list.stdout,
        /demo : service account\tTAGS: \[\]\n {6}demo : config directory\tTAGS: \[config\]/,
        show(list),
      );
    });

    it(
      'ansible-playbook runs the same playbook on web2; both hosts end in the same state',
      { skip: !ansible && !ansibleRequired ? 'ansible-playbook is not installed' : false },
      async () => {
        assert.ok(ansible, 'ansible-playbook must be installed here (scripts/install-deps)');
        // Ansible's apt module needs python3-apt on the host; the lab has no network: bring the packages.
        const debs = join(dir, 'python3-apt');
        mkdirSync(debs, { recursive: true });
        const dl = spawnSync('apt-get', ['download', 'python3-apt', 'python-apt-common', 'distro-info-data'], {
          cwd: debs,
          encoding: 'utf8',
        });
        assert.equal(dl.status, 0, dl.stderr);
        for (const f of readdirSync(debs)) {
          const up = await lab.exec('web2', `base64 -d > /tmp/${f}`, {
            input: readFileSync(join(debs, f)).toString('base64'),
          });
          assert.equal(up.code, 0, up.stderr);
        }
        const inst = await lab.exec('web2', 'sudo dpkg -i /tmp/*.deb');
        assert.equal(inst.code, 0, show(inst));
        const env = {
          LC_ALL: 'C.UTF-8',
          ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
          ANSIBLE_NOCOLOR: '1',
          ANSIBLE_RETRY_FILES_ENABLED: '0',
        };
        // OpenSSH reads known_hosts from the passwd home, not $HOME: name the lab's file.
        const inv = webInventory('web2', {
          ansible_ssh_common_args: `-o UserKnownHostsFile=${lab.home}/.ssh/known_hosts`,
        });
        const a = await lab.run(['ansible-playbook', '-i', inv, pb], { env, cwd: dir, timeoutMs: 300_000 });
        assert.equal(a.code, 0, show(a));
        assert.match(a.stdout, /web2\s+: ok=\d+\s+changed=[1-9]/, show(a));
        const again = await lab.run(['ansible-playbook', '-i', inv, pb], { env, cwd: dir, timeoutMs: 300_000 });
        assert.match(again.stdout, /web2\s+: ok=\d+\s+changed=0/, show(again));
        const [one, two] = [await state('web1'), await state('web2')];
        assert.match(one, /^\/etc\/demo\/demo\.conf root demo 640 regular file\n[0-9a-f]{40} +-\n/m, one);
        assert.match(one, /^demo:\/home\/demo:\/usr\/sbin\/nologin\ndemo-tool 1\.0 ii \nenabled\nactive\n$/m, one);
        assert.equal(two, one);
      },
    );
  });
});
