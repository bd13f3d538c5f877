// relay-play's command line. Commands never call process.exit; errors travel up to main().
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, ExitError, InputError } from '../errors.js';

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

function addRunOptions(cmd: Command): Command {
  return cmd
    .option('-C, --check', "don't change anything; report what would change")
    .option('-D, --diff', 'show the differences in files that change (or would change)')
    .option('-l, --limit <pattern>', 'only run on hosts matching this pattern (e.g. "rpi1:laptop", "devices:!rpi2")')
    .option('-f, --forks <n>', 'how many hosts run at once', positiveInt, 20)
    .option('--json', 'print one JSON object (like ansible-playbook with the json callback) and nothing else on stdout')
    .option('-v, --verbose', 'more output (repeat for more)', (_v, prev: number) => prev + 1, 0)
    .option('--accept-new-host-keys', 'trust and record host keys not yet in ~/.ssh/known_hosts (a changed key is still refused)');
}

export function buildProgram(): Command {
  const program = new Command('relay-play')
    .description('Agentless, Ansible-style playbooks over SSH; sets up a reverse-SSH relay for your devices.')
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError();

  addRunOptions(program.command('run').description('run a playbook').argument('<playbook>', 'playbook YAML file'))
    .requiredOption('-i, --inventory <file>', 'inventory YAML file (Ansible format)')
    .action(async (playbook: string, opts: CommonOptions & { inventory: string }) => {
      // Commands load on demand: --help and --version stay instant.
      const { runCommand } = await import('./run.js');
      throw new ExitError(await runCommand(playbook, opts.inventory, opts));
    });

  addRunOptions(program.command('apply').description('set up the reverse-SSH relay for the inventory (the bundled site playbook)').argument('<inventory>', 'inventory YAML file'))
    .option('--lock-wait <seconds>', 'how long to wait for another apply on the same relay to finish', positiveInt, 120)
    .action(async (inventory: string, opts: CommonOptions) => {
      const { applyCommand } = await import('./apply.js');
      throw new ExitError(await applyCommand(inventory, opts));
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
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
