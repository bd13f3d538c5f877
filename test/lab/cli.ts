// Manual debugging of the lab:
//   node dist/test/lab/cli.js up NAME[=RELEASE]...   boot hosts NAME... (each on RELEASE: bookworm or trixie,
//                                                    default bookworm) and keep them until Ctrl-C (then tear down)
//   node dist/test/lab/cli.js build [RELEASE...]     build (or verify) the cached images only (default: all)
//   node dist/test/lab/cli.js sweep        remove leftovers of crashed labs
//   node dist/test/lab/cli.js check        can this machine run a lab?
// Set RELAY_PLAY_LAB_DEBUG=1 for progress details.

import { ensureImage, labAvailable, RELEASES, startLab, sweepStaleLabs, type Release } from './index.js';

function usage(): never {
  process.stderr.write(
    `usage: cli.js up NAME[=RELEASE]... [--prefix P] | build [RELEASE...] | sweep | check  (RELEASE: ${RELEASES.join(', ')})\n`,
  );
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  const avail = labAvailable();
  if (cmd === 'check') {
    console.log(avail.ok ? 'ok' : `not available: ${avail.why}`);
    process.exit(avail.ok ? 0 : 1);
  }
  if (!avail.ok) {
    process.stderr.write(`lab not available: ${avail.why}\n`);
    process.exit(1);
  }
  if (cmd === 'build') {
    const wanted = rest.length ? rest : [...RELEASES];
    const bad = wanted.find((r) => !(RELEASES as readonly string[]).includes(r));
    if (bad) usage();
    for (const r of wanted) {
      const img = await ensureImage(r as Release);
      console.log(`${r} image: ${img.rootfs}\nadmin key: ${img.adminKey}`);
    }
    return;
  }
  if (cmd === 'sweep') {
    const swept = sweepStaleLabs();
    console.log(swept.length ? `swept: ${swept.join(' ')}` : 'nothing to sweep');
    return;
  }
  if (cmd !== 'up') usage();
  let prefix: string | undefined;
  const names: string[] = [];
  const release: Record<string, Release> = {};
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--prefix') prefix = rest[++i];
    else {
      const [name, r] = rest[i].split('=');
      names.push(name);
      if (r) release[name] = r as Release;
    }
  }
  if (!names.length) usage();

  const t0 = Date.now();
  const lab = await startLab(names, { prefix, release });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  const kh = `${lab.home}/.ssh/known_hosts`;
  const sshBase = `ip netns exec ${lab.bridgeNs} ssh -i ${lab.adminKey} -o UserKnownHostsFile=${kh}`;
  console.log(`lab ${lab.prefix}: ${names.length} host(s) up in ${secs} s`);
  console.log(`  bridge netns ${lab.bridgeNs} (198.18.0.1/24), runner HOME=${lab.home}`);
  for (const h of Object.values(lab.hosts)) {
    console.log(
      `  ${h.name.padEnd(12)} ${h.ip.padEnd(13)} ${h.release.padEnd(9)} netns ${h.netns}  console ${lab.consoleLog(h.name)}`,
    );
  }
  console.log('\nreach a host:');
  console.log(`  ${sshBase} ${lab.adminUser}@${Object.values(lab.hosts)[0].ip}`);
  console.log('a shell where the runner would run:');
  console.log(`  HOME=${lab.home} ip netns exec ${lab.bridgeNs} bash`);
  console.log('\nCtrl-C tears the lab down.');

  const keepAlive = setInterval(() => {
    /* hold the process */
  }, 60_000);
  const stop = async (sig: string): Promise<void> => {
    clearInterval(keepAlive);
    process.stderr.write(`\n${sig}: tearing down ${lab.prefix}...\n`);
    await lab.teardown();
    process.stderr.write('done\n');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
