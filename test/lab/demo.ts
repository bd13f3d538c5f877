// `npm run demo`: boots a small lab fleet (a relay, two devices, a client), runs `relay-play apply`
// on it, shows `ssh rpi1 hostname` working from the client through the relay, moves rpi2 away from
// home (behind a NAT: the runner can't reach it any more) and applies again — rpi2 is reached through
// its own tunnel — and tears it down.
import { labAvailable, startLab, type Lab } from './index.js';
import { relayPlay, tempDir, waitFor, writeYaml } from '../integration/util.js';

const say = (s: string) => process.stdout.write(`\n\x1b[1m== ${s}\x1b[0m\n`);

async function demo(lab: Lab): Promise<number> {
  const hosts = lab.inventoryHosts();
  const inventory = writeYaml(tempDir('relay-play-demo-'), 'inventory.yaml', {
    all: {
      children: {
        relay: { hosts: { server: hosts.server } },
        devices: { hosts: { rpi1: hosts.rpi1, rpi2: hosts.rpi2 } },
        clients: { hosts: { laptop: hosts.laptop } },
      },
    },
  });
  // The person on the laptop logs in to the devices with their own key.
  const key = await lab.exec(
    'laptop',
    "ssh-keygen -q -t ed25519 -N '' -f ~/.ssh/id_ed25519 && cat ~/.ssh/id_ed25519.pub",
  );
  for (const d of ['rpi1', 'rpi2']) await lab.exec(d, 'cat >> ~/.ssh/authorized_keys', { input: key.stdout });

  say(`relay-play apply ${inventory}`);
  const started = Date.now();
  const apply = await relayPlay(lab, ['apply', inventory]);
  process.stdout.write(apply.stdout + apply.stderr);
  process.stdout.write(`(took ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  if (apply.code !== 0) return apply.code;

  say('laptop$ ssh rpi1 hostname      # through the relay, strict host key checking, no prompt');
  let out = '';
  await waitFor('the tunnel', 30_000, async () => {
    const r = await lab.exec('laptop', 'ssh -o BatchMode=yes rpi1 hostname');
    out = r.stdout + r.stderr;
    return r.code === 0;
  }).catch(() => undefined);
  process.stdout.write(out);
  if (out.trim() !== 'rpi1') return 2;

  say('laptop$ cat ~/.ssh/config');
  process.stdout.write((await lab.exec('laptop', 'cat ~/.ssh/config')).stdout);

  say(`rpi2 leaves home (behind a NAT now: this machine cannot reach ${hosts.rpi2.ansible_host}:22 any more)`);
  await lab.setAway('rpi2', true);
  say('relay-play apply -v again: nothing to change; rpi2 is reached through its own tunnel');
  const again = await relayPlay(lab, ['apply', inventory, '-v']);
  process.stdout.write(
    again.stdout
      .split('\n')
      .filter((l) => l.startsWith('reached:'))
      .join('\n') + '\n',
  );
  process.stdout.write(again.stdout.split('PLAY RECAP')[1] ?? again.stdout);
  return again.code;
}

async function main(): Promise<void> {
  const avail = labAvailable();
  if (!avail.ok) {
    process.stderr.write(`the demo needs the lab: ${avail.why}\n`);
    process.exitCode = 1;
    return;
  }
  say('booting a lab fleet: server (relay), rpi1, rpi2, laptop (client)');
  const lab = await startLab(['server', 'rpi1', 'rpi2', 'laptop']);
  try {
    process.exitCode = await demo(lab);
  } finally {
    say('tearing the fleet down');
    await lab.teardown();
  }
}

void main();
