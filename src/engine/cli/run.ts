// `run PLAYBOOK -i INVENTORY`, and its listings (--list-tasks, --list-hosts, --syntax-check).
import { dirname } from 'node:path';
import { loadInventory } from '../inventory/index.js';
import { pickReporter } from '../output/pick.js';
import { extraVars, renderPlayHosts } from './extra-vars.js';
import { loadPlaybook } from '../playbook/load.js';
import { selectTags, tagList } from '../playbook/tags.js';
import type { Extensions } from '../runner/extensions.js';
import { exitCodeFor, runPlaybook } from '../runner/play.js';
import { runnerOptions, type CommonOptions } from './options.js';

export interface RunOptions extends CommonOptions {
  tags?: string[];
  skipTags?: string[];
  listTasks?: boolean;
  listHosts?: boolean;
  syntaxCheck?: boolean;
}

export async function runCommand(
  playbookFile: string,
  inventoryFile: string,
  opts: RunOptions,
  extensions: Extensions,
): Promise<number> {
  // Like ansible-playbook: group_vars/ and host_vars/ beside the playbook count too.
  const inv = loadInventory(inventoryFile, { playbookDir: dirname(playbookFile) });
  const loaded = loadPlaybook(playbookFile, { modules: extensions.modules, rolesPath: extensions.rolesPath });
  const extra = extraVars(opts.extraVars ?? []);
  const pb = renderPlayHosts(selectTags(loaded, tagList(opts.tags), tagList(opts.skipTags)), extra);
  if (opts.listTasks || opts.listHosts || opts.syntaxCheck) {
    const { listing, syntaxCheck } = await import('./list.js');
    // Like ansible-playbook: these only read; a syntax check also runs every check a run does first.
    process.stdout.write(
      opts.syntaxCheck
        ? syntaxCheck(pb, inv, extensions.modules, opts.limit)
        : listing(pb, inv, { tasks: opts.listTasks, hosts: opts.listHosts }, opts.limit),
    );
    return 0;
  }
  const state = await runPlaybook(
    pb,
    inv,
    { ...runnerOptions(opts, extensions), extraVars: extra },
    await pickReporter(opts),
  );
  return exitCodeFor(state);
}
