// relay-play's own commands: set up the relay (apply), and day 2 (status, remove, enroll, rotate, nixos).
// Each command's code loads only when it runs, so --help and --version stay instant.
import type { Command } from 'commander';
import { ExitError, RUN_OPTIONS, withOptions, type CommonOptions } from '../../engine/cli/index.js';

export function addRelayCommands(program: Command): void {
  withOptions(
    program
      .command('apply')
      .description('set up the reverse-SSH relay for the inventory (the bundled site playbook)')
      .argument('<inventory>', 'inventory YAML file'),
    [...RUN_OPTIONS, 'extraVars', 'lockWait'],
  )
    .action(async (inventory: string, opts: CommonOptions) => {
      const { applyCommand } = await import('./apply.js');
      throw new ExitError(await applyCommand(inventory, opts));
    })
    .option(
      '--prune',
      'also remove devices and clients recorded on the relay but missing from the inventory (default: keep them, with a warning)',
    );

  // Day 2: see how the fleet is doing, take a device out, renew relay keys, NixOS configuration.
  program
    .command('status')
    .description(
      "each device's tunnel: up or down (checked on the relay, host key included), since when, and why it is down; exit 3 if any is down",
    )
    .argument('<inventory>', 'inventory YAML file')
    .option('--json', 'print a JSON array of {name, port, up, since, error, ...}')
    .option(
      '-v, --verbose',
      'also ask every device (those away through their tunnel) about its tunnel service: how it was reached, restarts, last message',
      (_v, prev: number) => prev + 1,
      0,
    )
    .option('--accept-new-host-keys', 'trust and record host keys not yet in ~/.ssh/known_hosts')
    .action(async (inventory: string, opts: { json?: boolean; acceptNewHostKeys?: boolean; verbose?: number }) => {
      const { statusCommand } = await import('./status.js');
      throw new ExitError(await statusCommand(inventory, opts));
    });

  const remove = program
    .command('remove')
    .description(
      "revoke a device on the relay at once (its tunnel drops), free its ports, stop its tunnel service, and drop it from every client's ssh config",
    )
    .argument('<inventory>', 'inventory YAML file')
    .argument('<device>', 'the device (in the inventory, or only recorded on the relay)');
  withOptions(remove, ['check', 'diff', 'forks', 'json', 'verbose', 'keys', 'lockWait']).action(
    async (inventory: string, device: string, opts: CommonOptions) => {
      const { removeCommand } = await import('./remove.js');
      throw new ExitError(await removeCommand(inventory, device, opts));
    },
  );

  const enroll = program
    .command('enroll')
    .description(
      'zero-touch enrolment: record and authorize a new device on the relay, and write what it runs on first boot (a cloud-config user-data, or --script) — with its private keys',
    )
    .argument('<inventory>', 'inventory YAML file')
    .argument('<device>', 'a device of the inventory (no ansible_host needed)')
    .option('--script', 'a POSIX shell script (firstrun.sh, or run by hand as root) instead of a cloud-config')
    .option('-o, --output <file>', 'write it to this file (mode 0600) instead of stdout')
    .option('--reissue', 'the device is enrolled already: revoke its keys and issue new ones')
    .option('--force', 'print it even when stdout is a terminal')
    .option(
      '--login-key <file.pub>',
      'the public key relay-play logs in to the device with (default: the .pub beside ansible_ssh_private_key_file, or ~/.ssh/id_ed25519.pub)',
    )
    .option('--no-login-key', "don't set up relay-play's login on the device (its image has it already)");
  withOptions(enroll, ['forks', 'verbose', 'keys', 'lockWait']).action(
    async (inventory: string, device: string, opts: CommonOptions) => {
      const { enrollCommand } = await import('./enroll.js');
      throw new ExitError(await enrollCommand(inventory, device, opts));
    },
  );

  const rotate = program
    .command('rotate')
    .description(
      'new relay keys for a device (or --all): the relay accepts both, the device switches and restarts its tunnel, the old key is refused',
    )
    .argument('<inventory>', 'inventory YAML file')
    .argument('[device]', 'the device whose relay key to renew')
    .option('--all', 'every device of the inventory (NixOS devices are skipped)');
  withOptions(rotate, ['diff', 'forks', 'json', 'verbose', 'keys', 'lockWait']).action(
    async (inventory: string, device: string | undefined, opts: CommonOptions & { all?: boolean }) => {
      const { rotateCommand } = await import('./rotate.js');
      throw new ExitError(await rotateCommand(inventory, device, opts));
    },
  );

  program
    .command('nixos')
    .description(
      'print the NixOS configuration of a host with os: nixos (a relay or a device), with the real keys and ports',
    )
    .argument('<inventory>', 'inventory YAML file')
    .argument('<host>', 'a relay or a device')
    .option('--accept-new-host-keys', 'trust and record host keys not yet in ~/.ssh/known_hosts')
    .action(async (inventory: string, host: string, opts: { acceptNewHostKeys?: boolean }) => {
      const { nixosCommand } = await import('./nixos.js');
      throw new ExitError(await nixosCommand(inventory, host, opts));
    });
}
