// The bench's end-state comparison without a lab: a host's file listing is cut into what is compared
// and what only relay-play installs (named, reported, never compared). The listings are as the bench
// read them on Debian 12 lab hosts after relay-play's and Ansible's runs (1 device, then one added).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endStateDiff, RELAY_PLAY_ONLY, relayPlayOnly, splitFiles } from '../../bench/end-state.js';
import { notCompared } from '../../bench/report.js';

const lines = (...l: string[]) => l.join('\n');

const DEVICE_RELAY_PLAY = lines(
  'd root:root 755 /etc/relay-play',
  'f root:root 644 /etc/relay-play/.rollback.lock',
  'f relay-tunnel:root 600 /etc/relay-play/id_relay',
  'f relay-tunnel:root 644 /etc/relay-play/id_relay.pub',
  'f root:root 644 /etc/relay-play/known_hosts',
  'd root:root 755 /etc/ssh/sshd_config.d',
  'l root:root 777 /etc/systemd/system/multi-user.target.wants/relay-play-rollback.service',
  'l root:root 777 /etc/systemd/system/multi-user.target.wants/relay-tunnel.service',
  'f root:root 644 /etc/systemd/system/relay-play-rollback.service',
  'f root:root 644 /etc/systemd/system/relay-tunnel.service',
  'd root:root 755 /usr/local/lib/relay-play',
  'f root:root 755 /usr/local/lib/relay-play/tunnel-rollback',
);
const DEVICE_ANSIBLE = lines(
  'd root:root 755 /etc/relay-play',
  'f relay-tunnel:root 600 /etc/relay-play/id_relay',
  'f relay-tunnel:root 644 /etc/relay-play/id_relay.pub',
  'f root:root 644 /etc/relay-play/known_hosts',
  'd root:root 755 /etc/ssh/sshd_config.d',
  'l root:root 777 /etc/systemd/system/multi-user.target.wants/relay-tunnel.service',
  'f root:root 644 /etc/systemd/system/relay-tunnel.service',
);
const RELAY_RELAY_PLAY = lines(
  'd root:root 755 /etc/ssh/sshd_config.d',
  'f root:root 644 /etc/ssh/sshd_config.d/relay-play.conf',
  'l root:root 777 /etc/systemd/system/multi-user.target.wants/relay-play-reaper.service',
  'f root:root 644 /etc/systemd/system/relay-play-reaper.service',
  'd relay:relay 700 /home/relay/.ssh',
  'f relay:relay 600 /home/relay/.ssh/authorized_keys',
  'd root:root 755 /root/.relay-play',
  'd root:root 755 /root/.relay-play/pending',
  'f root:root 644 /run/lock/relay-play.lock',
  'd root:root 700 /run/relay-play',
  'f root:root 644 /run/relay-play/status-checked',
  'd root:root 755 /usr/local/lib/relay-play',
  'f root:root 755 /usr/local/lib/relay-play/reap-stale-tunnels',
  'd root:root 755 /var/lib/relay-play',
  'f root:root 644 /var/lib/relay-play/fleet.json',
);

describe('bench end state: what only relay-play installs', () => {
  it("a device's rollback unit, its link, script and lock are relay-play's alone; the rest compares equal with Ansible's", () => {
    const rp = splitFiles('device', DEVICE_RELAY_PLAY);
    const an = splitFiles('device', DEVICE_ANSIBLE);
    assert.equal(rp.compared, an.compared);
    assert.equal(an.relayPlayOnly, '');
    assert.deepEqual(
      rp.relayPlayOnly.split('\n').map((l) => l.split(' ')[3]),
      [
        '/etc/relay-play/.rollback.lock',
        '/etc/systemd/system/multi-user.target.wants/relay-play-rollback.service',
        '/etc/systemd/system/relay-play-rollback.service',
        '/usr/local/lib/relay-play',
        '/usr/local/lib/relay-play/tunnel-rollback',
      ],
    );
  });

  it('the loopback drop-in (OpenSSH 9.8+) is relay-play only on a device; any other drop-in there is compared', () => {
    assert.ok(relayPlayOnly('device', '/etc/ssh/sshd_config.d/relay-play-loopback.conf'));
    assert.equal(relayPlayOnly('device', '/etc/ssh/sshd_config.d/relay-play-loopback.conf.bak'), undefined);
    assert.equal(relayPlayOnly('relay', '/etc/ssh/sshd_config.d/relay-play-loopback.conf'), undefined);
  });

  it("per role: the relay's program directory (the reaper) is compared, a device's (the rollback script) is not", () => {
    const relay = splitFiles('relay', RELAY_RELAY_PLAY);
    assert.match(relay.compared, /^f root:root 755 \/usr\/local\/lib\/relay-play\/reap-stale-tunnels$/m);
    assert.doesNotMatch(relay.compared, /\/root\/\.relay-play|\/run\/relay-play|relay-play\.lock/);
    assert.equal(relay.relayPlayOnly.split('\n').length, 5);
    assert.ok(relayPlayOnly('device', '/usr/local/lib/relay-play/reap-stale-tunnels'));
  });

  it('a file one tool leaves that is not declared relay-play only, or another owner, makes the end states differ', () => {
    const extra = splitFiles('device', `${DEVICE_RELAY_PLAY}\nf root:root 644 /etc/relay-play/something-new`);
    const an = splitFiles('device', DEVICE_ANSIBLE);
    assert.deepEqual(endStateDiff({ 'rpi1: files': extra.compared }, { 'rpi1: files': an.compared }, ['rp', 'an']), {
      'rpi1: files': ['- rp: f root:root 644 /etc/relay-play/something-new'],
    });
    // Seen before the Ansible mirror set it: the public half of the relay key owned by root.
    const rootPub = splitFiles('device', DEVICE_ANSIBLE.replace('relay-tunnel:root 644', 'root:root 644'));
    assert.deepEqual(endStateDiff({ 'rpi1: files': an.compared }, { 'rpi1: files': rootPub.compared }, ['rp', 'an']), {
      'rpi1: files': [
        '- rp: f relay-tunnel:root 644 /etc/relay-play/id_relay.pub',
        '+ an: f root:root 644 /etc/relay-play/id_relay.pub',
      ],
    });
  });

  it("every report names them, with the reason (the results JSON's notCompared)", () => {
    const named = notCompared().installedOnlyByRelayPlay;
    assert.deepEqual(
      named.map((o) => o.path),
      RELAY_PLAY_ONLY.map((o) => o.path),
    );
    for (const p of [
      '/etc/systemd/system/relay-play-rollback.service',
      '/usr/local/lib/relay-play',
      '/etc/ssh/sshd_config.d/relay-play-loopback.conf',
    ])
      assert.ok(
        named.some((o) => o.path === p && o.roles.includes('device') && o.what.length > 0),
        p,
      );
  });
});
