import { loadInventory } from '../inventory/index.js';
import { trace } from '../trace.js';
import { prepareRelayInventory } from '../relay/inventory.js';
import type { CommonOptions } from './index.js';
import { nixosSections } from './nixos.js';
import { bundledPlaybook, reportFleetChanges, runRelayPlaybook } from './relay-run.js';

/** The bundled site playbook, next to the bundled roles. */
export function sitePlaybook(): string {
  return bundledPlaybook('site');
}

export async function applyCommand(inventoryFile: string, opts: CommonOptions & { prune?: boolean }): Promise<number> {
  trace('apply loaded');
  const inv = loadInventory(inventoryFile);
  trace('inventory loaded');
  prepareRelayInventory(inv);
  // Without --prune, a device merely left out of this inventory keeps its record and key (with a warning).
  const run = await runRelayPlaybook('site', inv, opts, { relayVars: { relay_prune: Boolean(opts.prune) } });
  reportFleetChanges(run, inventoryFile, opts);
  // NixOS hosts are never changed: their configuration is printed instead (stderr with --json).
  const nix = nixosSections(run.state, inv, inventoryFile);
  if (nix) (opts.json ? process.stderr : process.stdout).write(nix);
  return run.code;
}
