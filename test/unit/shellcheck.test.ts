// Shell that runs on hosts and is not a .sh file (those are checked by `npm run lint`), checked by
// shellcheck once it is what a host gets: every role template roles/*/templates/*.sh.hbs rendered with
// the variables a run gives it, and the first-boot script `relay-play enroll` writes. shellcheck is
// Debian's package (scripts/install-deps): missing, these tests fail rather than skip.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseInventory } from '../../src/engine/inventory/index.js';
import { renderHandlebars } from '../../src/engine/template/handlebars.js';
import { bundledRolesDir } from '../../src/relay/app.js';
import { firstBootScript, type FirstBoot } from '../../src/relay/enroll.js';
import { prepareRelayInventory } from '../../src/relay/inventory.js';

/** shellcheck's findings on `script` (sh, or bash when its #! line says so), '' when none. */
function shellcheck(script: string): string {
  const shell = script.startsWith('#!/bin/bash\n') ? 'bash' : 'sh';
  const r = spawnSync('shellcheck', [`--shell=${shell}`, '--norc', '-'], { input: script, encoding: 'utf8' });
  assert.ok(!r.error, `shellcheck: ${r.error?.message} (scripts/install-deps installs it: apt-get install shellcheck)`);
  assert.ok(r.status === 0 || r.status === 1, `shellcheck exited ${r.status}: ${r.stderr}`);
  return r.status === 0 ? '' : r.stdout;
}

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

describe('shellcheck', () => {
  it('finds what it should (a check that it runs at all)', () => {
    assert.match(shellcheck('echo $1\n'), /SC2086/);
    assert.equal(shellcheck('echo "$1"\n'), '');
    // A bash script (#!/bin/bash) is checked as bash: bash's own syntax passes, the rest as for sh.
    assert.equal(shellcheck('#!/bin/bash\na=(1); echo "${a[0]}"\n'), '');
    assert.match(shellcheck('#!/bin/sh\na=(1); echo "${a[0]}"\n'), /SC3030/);
    assert.match(shellcheck('#!/bin/bash\necho $1\n'), /SC2086/);
  });

  it('every role template that renders to a shell script, rendered as a run renders it (relay behind a port forward or not)', () => {
    const roles = bundledRolesDir();
    const templates = readdirSync(roles).flatMap((role) => {
      const dir = join(roles, role, 'templates');
      return existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => f.endsWith('.sh.hbs'))
            .map((f) => ({ role, file: join(dir, f) }))
        : [];
    });
    assert.ok(templates.length >= 2, templates.map((t) => t.file).join(' '));
    // The variables of the relay and of a device, as the relay application prepares an inventory.
    const inv = parseInventory(
      `all:
  vars: {ansible_user: admin}
  children:
    relay: {hosts: {server: {ansible_host: 198.18.0.10}}}
    devices: {hosts: {rpi1: {ansible_host: 198.18.0.11, forwards: [{name: web, port: 80}]}}}
`,
      'inv.yaml',
    );
    prepareRelayInventory(inv);
    for (const { role, file } of templates) {
      const defaults = join(roles, role, 'defaults', 'main.yaml');
      const roleVars = existsSync(defaults) ? (parse(readFileSync(defaults, 'utf8')) as Record<string, unknown>) : {};
      for (const host of ['server', 'rpi1'])
        for (const forward of [{}, { relay_ssh_port: 2222, relay_sshd_port: 22 }]) {
          const vars = { ...roleVars, ...inv.hosts.get(host)!.vars, ...forward, inventory_hostname: host };
          const script = String(renderHandlebars(readFileSync(file, 'utf8'), vars));
          assert.ok(!script.includes('{{'), `${file}: not rendered`);
          assert.equal(shellcheck(script), '', `${file} rendered for ${host} ${JSON.stringify(forward)}`);
        }
    }
  });

  it("relay-play enroll's first-boot script, with and without the host key and the admin's login", () => {
    const boot: FirstBoot = {
      device: 'rpi9',
      port: 22229,
      tunnelUser: 'relay-tunnel',
      relayKey: {
        private: '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
        public: KEY,
      },
      hostKey: {
        private: '-----BEGIN OPENSSH PRIVATE KEY-----\nBBBB\n-----END OPENSSH PRIVATE KEY-----\n',
        public: KEY,
      },
      tunnels: [
        {
          relay: 'server',
          unit: 'relay-tunnel.service',
          suffix: '',
          pin: `relay-play-relay ${KEY}`,
          text: "[Service]\nExecStart=/usr/bin/ssh -R localhost:22229:localhost:22 relay@203.0.113.5\n# 'quotes' $HOME\n",
        },
      ],
      login: { user: 'admin', key: KEY },
    };
    for (const login of [boot.login, undefined])
      for (const withHostKey of [true, false])
        assert.equal(shellcheck(firstBootScript({ ...boot, login }, { withHostKey })), '', `${withHostKey} ${!!login}`);
  });
});
