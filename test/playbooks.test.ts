// Playbooks as an Ansible user writes them, on real lab hosts (issue 15).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { labAvailable, startLab, type Lab } from './lab/index.js';
import { recap, relayPlay, show, tempDir, writeYaml } from './integration/util.js';

const avail = labAvailable();

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
    const forms = [secret, Buffer.from(content).toString('base64').slice(0, 24), ...[0, 1, 2].map((k) => Buffer.from('xx'.slice(0, k) + secret).toString('base64').slice(4, 20))];
    // A control on the same run: a command line that does carry a marker must be seen by the sampler.
    const marker = `visible-${Math.random().toString(36).slice(2)}`;
    const pb = writeYaml(dir, 'secret.yaml', [
      {
        hosts: 'web1',
        become: true,
        tasks: [
          // Notifying makes the write travel with the handler's marker in one batch; validate keeps
          // the write's processes alive long enough to be sampled for sure.
          { name: 'secret file', copy: { content, dest: '/etc/app-secret', mode: '0600', validate: 'sleep 1.5; test -s %s' }, no_log: true, notify: 'done' },
          { name: 'control', command: { argv: ['sh', '-c', 'sleep 1.5', marker] } },
        ],
        handlers: [{ name: 'done', debug: { msg: 'written' } }],
      },
    ]);
    // The patterns go in a file: on the sampler's own command line they would be found there.
    await lab.exec('web1', 'rm -f /tmp/seen /tmp/stop-sampling; cat > /tmp/patterns', { input: [...forms, marker].join('\n') + '\n' });
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
});
