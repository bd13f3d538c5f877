// The reboot module on real hosts: a host reached at its address (Debian 13) and an away device (Debian 12)
// reached only through its tunnel on the relay reboot for real (the lab boots a container again when its
// init reboots, as a machine comes back up), the run waits for each to come back by its usual path, and
// the tasks after the reboot run on the rebooted host with nothing read before it; check mode reboots nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { labAvailable, startLab, type Lab } from './lab/index.js';
import { relayInventory, setupClientLogin, sshFromClient } from './integration/relay-lab.js';
import { CLI, relayPlay, REPO, show, tempDir, writeYaml } from './integration/util.js';
import type { RunJson } from './differential/compare.js';

const avail = labAvailable();

/**
 * Reboot, and prove it on the host: the boot id read before and after by tasks, a marker in /run (a tmpfs,
 * gone after a boot) stat'ed before and after — the same read, so one taken before the reboot must not
 * answer after it.
 */
const PLAYBOOK = (hosts: string) => `
- hosts: ${hosts}
  gather_facts: false
  become: true
  tasks:
    - name: boot id before
      command: cat /proc/sys/kernel/random/boot_id
      register: before
    - name: a marker that lives until the next boot
      command: touch /run/reboot-marker
    - name: the marker is there
      stat:
        path: /run/reboot-marker
      register: pre
    - name: reboot
      reboot:
        reboot_timeout: 180
      register: rebooted
    - name: boot id after
      command: cat /proc/sys/kernel/random/boot_id
      register: after
    - name: the marker again
      stat:
        path: /run/reboot-marker
      register: post
    - name: rebooted, and the tasks after it ran on the new boot
      assert:
        that:
          - rebooted.rebooted
          - rebooted.changed
          - rebooted.elapsed is integer
          - pre.stat.exists
          - not post.stat.exists
          - before.stdout != after.stdout
`;

describe(
  'reboot: hosts come back by their usual path',
  { skip: avail.ok ? false : avail.why, timeout: 900_000 },
  () => {
    let lab: Lab;
    let dir: string;
    let inventory: string;
    const bootId = async (h: string) => (await lab.exec(h, 'cat /proc/sys/kernel/random/boot_id')).stdout.trim();
    /** The registered result of task `name` for `host` in a --json run. */
    const resultOf = (json: RunJson, name: string, host: string) =>
      json.plays.flatMap((p) => p.tasks).find((t) => t.task.name === name)?.hosts[host] as Record<string, unknown>;
    const runJson = async (playbook: string, ...extra: string[]) => {
      // Traced: a failure shows where the run was (stderr).
      const r = await lab.run(['node', CLI, 'run', '--json', playbook, '-i', inventory, ...extra], {
        env: { RELAY_PLAY_TRACE: '1' },
        cwd: REPO,
        timeoutMs: 480_000,
      });
      let json: RunJson | undefined;
      try {
        json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as RunJson;
      } catch {
        /* asserted below */
      }
      assert.ok(json, `no JSON:\n${show(r)}`);
      return { r, json };
    };

    before(async () => {
      lab = await startLab(['server', 'rpi1', 'web', 'client'], { release: { web: 'trixie' } });
      dir = tempDir();
      await setupClientLogin(lab, ['rpi1']);
      const inv = relayInventory(lab, { devices: ['rpi1'] }) as { all: { children: Record<string, unknown> } };
      inv.all.children.servers = { hosts: { web: lab.inventoryHosts().web } };
      inventory = writeYaml(dir, 'inventory.yaml', inv);
      // rpi1 enrolled at home: its tunnel is up on the relay, its host key pinned there.
      const r = await relayPlay(lab, ['apply', inventory], 240_000);
      assert.equal(r.code, 0, show(r));
    });

    after(async () => {
      await lab?.teardown();
    });

    it('check mode: changed and rebooted reported, nothing rebooted; delegated to this machine: refused', async () => {
      const [id, pid] = [await bootId('web'), lab.nspawnPid('web')];
      const playbook = writeYaml(dir, 'check.yaml', [
        {
          hosts: 'web',
          gather_facts: false,
          tasks: [
            { name: 'reboot', reboot: null },
            // As Ansible: never the control node, check mode or not (a harmless command all the same).
            {
              name: 'here',
              reboot: { reboot_command: '/bin/true', reboot_timeout: 1 },
              delegate_to: 'localhost',
              ignore_errors: true,
            },
          ],
        },
      ]);
      const { r, json } = await runJson(playbook, '--check');
      assert.equal(r.code, 0, show(r));
      const res = resultOf(json, 'reboot', 'web');
      assert.deepEqual([res.changed, res.rebooted, res.elapsed], [true, true, 0], show(r));
      const here = resultOf(json, 'here', 'web');
      assert.deepEqual(
        [here.failed, here.msg],
        [true, 'Running reboot with local connection would reboot the control node.'],
        show(r),
      );
      assert.equal(await bootId('web'), id, 'check mode rebooted the host');
      assert.equal(lab.nspawnPid('web'), pid);
    });

    it('a host reached at its address reboots; the run reconnects and goes on on the new boot', async () => {
      const [id, pid] = [await bootId('web'), lab.nspawnPid('web')];
      const { r, json } = await runJson(writeYaml(dir, 'web.yaml', PLAYBOOK('web')));
      assert.equal(r.code, 0, show(r));
      const res = resultOf(json, 'reboot', 'web');
      assert.deepEqual([res.changed, res.rebooted], [true, true]);
      process.stderr.write(`# web rebooted in ${String(res.elapsed)} s\n`);
      const now = await bootId('web');
      assert.notEqual(now, id, 'the boot id did not change');
      assert.equal((resultOf(json, 'boot id after', 'web').stdout as string).trim(), now);
      assert.notEqual(lab.nspawnPid('web'), pid, 'the container was not booted again');
    });

    it('an away device reboots and comes back through its tunnel on the relay', async () => {
      await lab.setAway('rpi1', true);
      const directly = await lab.run(['timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${lab.hosts.rpi1.ip}/22`]);
      assert.notEqual(directly.code, 0, 'rpi1 still answers at its address');
      const id = await bootId('rpi1');
      const { r, json } = await runJson(writeYaml(dir, 'rpi1.yaml', PLAYBOOK('rpi1')));
      assert.equal(r.code, 0, show(r));
      assert.equal(json.stats.rpi1?.via as unknown, 'relay', show(r));
      const res = resultOf(json, 'reboot', 'rpi1');
      assert.deepEqual([res.changed, res.rebooted], [true, true]);
      process.stderr.write(`# rpi1 (away) rebooted in ${String(res.elapsed)} s\n`);
      const now = await bootId('rpi1');
      assert.notEqual(now, id, 'the boot id did not change');
      assert.equal((resultOf(json, 'boot id after', 'rpi1').stdout as string).trim(), now);
      // Its clients reach it again too, through the same tunnel.
      assert.equal((await sshFromClient(lab, 'rpi1', 20_000)).stdout.trim(), 'rpi1');
    });
  },
);
