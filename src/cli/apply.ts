import { join } from 'node:path';
import { loadInventory } from '../inventory/index.js';
import { bundledRolesDir, loadPlaybook } from '../playbook/load.js';
import { prepareRelayInventory } from '../relay/inventory.js';
import type { CommonOptions } from './index.js';
import { runLoaded } from './run.js';

/** The bundled site playbook, next to the bundled roles. */
export function sitePlaybook(): string {
  return join(bundledRolesDir(), '..', 'playbooks', 'site.yaml');
}

export async function applyCommand(inventoryFile: string, opts: CommonOptions): Promise<number> {
  const inv = loadInventory(inventoryFile);
  prepareRelayInventory(inv);
  const pb = loadPlaybook(sitePlaybook());
  const relay = inv.groups.get('relay')![0];
  // Two applies on one fleet must not interleave: the second waits, then refuses.
  return runLoaded(pb, inv, opts, { host: relay, path: '/run/lock/relay-play.lock', waitSeconds: opts.lockWait });
}
