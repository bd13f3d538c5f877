import { loadInventory } from '../inventory/index.js';
import { JsonReporter } from '../output/json.js';
import { PlainReporter } from '../output/plain.js';
import type { Reporter } from '../runner/reporter.js';
import { loadPlaybook } from '../playbook/load.js';
import { selectTags, tagList } from '../playbook/tags.js';
import type { Playbook } from '../playbook/types.js';
import type { Inventory } from '../inventory/index.js';
import { exitCodeFor, runPlaybook } from '../runner/play.js';
import type { CommonOptions } from '../../cli/index.js';
import type { LockSpec } from '../runner/lock.js';

export async function pickReporter(opts: CommonOptions): Promise<Reporter> {
  const diff = Boolean(opts.diff);
  if (opts.json) return new JsonReporter({ diff });
  if (process.stdout.isTTY && !process.env.CI) {
    // listr2 is only needed on a terminal; loading it lazily keeps scripted runs quick to start.
    const { ListrReporter } = await import('../output/listr.js');
    return new ListrReporter({ diff, verbose: opts.verbose });
  }
  return new PlainReporter({ diff, verbose: opts.verbose });
}

export async function runLoaded(pb: Playbook, inv: Inventory, opts: CommonOptions, lock?: LockSpec): Promise<number> {
  const state = await runPlaybook(
    pb,
    inv,
    {
      check: Boolean(opts.check),
      diff: Boolean(opts.diff),
      limit: opts.limit,
      forks: opts.forks,
      acceptNewHostKeys: Boolean(opts.acceptNewHostKeys),
      lock,
    },
    await pickReporter(opts),
  );
  return exitCodeFor(state);
}

export interface RunOptions extends CommonOptions {
  tags?: string[];
  skipTags?: string[];
  listTasks?: boolean;
  listHosts?: boolean;
  syntaxCheck?: boolean;
}

export async function runCommand(playbookFile: string, inventoryFile: string, opts: RunOptions): Promise<number> {
  const inv = loadInventory(inventoryFile);
  const pb = selectTags(loadPlaybook(playbookFile), tagList(opts.tags), tagList(opts.skipTags));
  if (opts.listTasks || opts.listHosts || opts.syntaxCheck) {
    const { listing, syntaxCheck } = await import('./list.js');
    // Like ansible-playbook: these only read; a syntax check also runs every check a run does first.
    process.stdout.write(
      opts.syntaxCheck
        ? syntaxCheck(pb, inv, opts.limit)
        : listing(pb, inv, { tasks: opts.listTasks, hosts: opts.listHosts }, opts.limit),
    );
    return 0;
  }
  return runLoaded(pb, inv, opts);
}
