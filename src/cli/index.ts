// relay-play's command line. Commands never call process.exit; errors travel up to main().
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, ExitError, InputError } from '../engine/util/errors.js';
import { trace } from '../engine/util/trace.js';

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
    } catch {
      /* keep looking upwards */
    }
  }
  return '0.0.0';
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
};

export interface CommonOptions {
  check?: boolean;
  diff?: boolean;
  limit?: string;
  forks: number;
  json?: boolean;
  verbose: number;
  acceptNewHostKeys?: boolean;
  lockWait: number;
}

// The options commands share, defined once; each command picks the ones it supports.
const OPTIONS = {
  check: (c: Command) => c.option('-C, --check', "don't change anything; report what would change"),
  diff: (c: Command) => c.option('-D, --diff', 'show the differences in files that change (or would change)'),
  limit: (c: Command) =>
    c.option('-l, --limit <pattern>', 'only run on hosts matching this pattern (e.g. "rpi1:laptop", "devices:!rpi2")'),
  forks: (c: Command) => c.option('-f, --forks <n>', 'how many hosts run at once', positiveInt, 20),
  json: (c: Command) =>
    c.option(
      '--json',
      'print one JSON object (like ansible-playbook with the json callback) and nothing else on stdout',
    ),
  verbose: (c: Command) =>
    c.option('-v, --verbose', 'more output (repeat for more)', (_v, prev: number) => prev + 1, 0),
  keys: (c: Command) =>
    c.option(
      '--accept-new-host-keys',
      'trust and record host keys not yet in ~/.ssh/known_hosts (a changed key is still refused)',
    ),
  lockWait: (c: Command) =>
    c.option('--lock-wait <seconds>', 'how long to wait for another run on the same relay to finish', positiveInt, 120),
};

const collect = (v: string, prev: string[]) => [...prev, v];

function withOptions(cmd: Command, names: (keyof typeof OPTIONS)[]): Command {
  return names.reduce((c, n) => OPTIONS[n](c), cmd);
}

const RUN_OPTIONS: (keyof typeof OPTIONS)[] = ['check', 'diff', 'limit', 'forks', 'json', 'verbose', 'keys'];

export function buildProgram(): Command {
  const program = new Command('relay-play')
    .description('Agentless, Ansible-style playbooks over SSH; sets up a reverse-SSH relay for your devices.')
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError();

  withOptions(
    program.command('run').description('run a playbook').argument('<playbook>', 'playbook YAML file'),
    RUN_OPTIONS,
  )
    .requiredOption('-i, --inventory <file>', 'inventory YAML file (Ansible format)')
    .option('-t, --tags <tags>', 'only run tasks with these tags (comma-separated; repeatable)', collect, [])
    .option('--skip-tags <tags>', 'skip tasks with these tags (comma-separated; repeatable)', collect, [])
    .option('--list-tasks', 'list the tasks that would run, and exit')
    .option('--list-hosts', 'list the hosts each play would run on, and exit')
    .option(
      '--syntax-check',
      'check the playbook, its roles, templates and variables without touching a host, and exit',
    )
    .action(async (playbook: string, opts: CommonOptions & { inventory: string }) => {
      // Commands load on demand: --help and --version stay instant.
      const { runCommand } = await import('../engine/cli/run.js');
      throw new ExitError(await runCommand(playbook, opts.inventory, opts));
    });

  withOptions(
    program
      .command('apply')
      .description('set up the reverse-SSH relay for the inventory (the bundled site playbook)')
      .argument('<inventory>', 'inventory YAML file'),
    [...RUN_OPTIONS, 'lockWait'],
  )
    .action(async (inventory: string, opts: CommonOptions) => {
      const { applyCommand } = await import('../relay/commands/apply.js');
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
      const { statusCommand } = await import('../relay/commands/status.js');
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
      const { removeCommand } = await import('../relay/commands/remove.js');
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
      const { enrollCommand } = await import('../relay/commands/enroll.js');
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
      const { rotateCommand } = await import('../relay/commands/rotate.js');
      throw new ExitError(await rotateCommand(inventory, device, opts));
    },
  );

  program
    .command('nixos')
    .description(
      'print the NixOS configuration of a host with os: nixos (the relay or a device), with the real keys and ports',
    )
    .argument('<inventory>', 'inventory YAML file')
    .argument('<host>', 'the relay or a device')
    .option('--accept-new-host-keys', 'trust and record host keys not yet in ~/.ssh/known_hosts')
    .action(async (inventory: string, host: string, opts: { acceptNewHostKeys?: boolean }) => {
      const { nixosCommand } = await import('../relay/commands/nixos.js');
      throw new ExitError(await nixosCommand(inventory, host, opts));
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  trace('started');
  let code: number = EXIT.ok;
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    code = exitCodeOf(e);
  }
  process.exitCode = code;
}

function exitCodeOf(e: unknown): number {
  if (e instanceof ExitError) return e.code;
  if (e instanceof InputError) {
    process.stderr.write(e.format() + '\n');
    return EXIT.input;
  }
  if (e instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    return e.exitCode === 0 ? 0 : EXIT.input;
  }
  process.stderr.write(`error: ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT.input;
}
