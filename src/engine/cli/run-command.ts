// `run PLAYBOOK -i INVENTORY`: the engine's own command, with an application's modules and routes.
import type { Command } from 'commander';
import { ExitError } from '../util/errors.js';
import type { Extensions } from '../runner/extensions.js';
import { collect, RUN_OPTIONS, withOptions, type CommonOptions } from './options.js';

/** Adds `run` to `program`; `extensions` is loaded only when it runs (--help stays instant). */
export function addRunCommand(program: Command, extensions: () => Promise<Extensions>): void {
  withOptions(program.command('run').description('run a playbook').argument('<playbook>', 'playbook YAML file'), [
    ...RUN_OPTIONS,
    'extraVars',
  ])
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
      const { runCommand } = await import('./run.js');
      throw new ExitError(await runCommand(playbook, opts.inventory, opts, await extensions()));
    });
}
