import {
  exitCodeFor,
  type Inventory,
  loadInventory,
  PlainReporter,
  trace,
  type CommonOptions,
} from '../../engine/index.js';
import { prepareRelayInventory } from '../inventory.js';
import { nixosSections } from './nixos.js';
import { reportFleetChanges, rotationOf, runRelayPlaybook, type RelayRun } from './relay-run.js';
import { bundledPlaybook } from '../app.js';

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
  return settleEnrolled(run, inv, opts);
}

/**
 * Devices enrolled with `relay-play enroll` still use the relay key that travelled in their user-data:
 * the first apply that reaches one rotates it (as `relay-play rotate` does). One not reached yet is
 * awaiting first contact — reported, and not a failure of the run.
 */
async function settleEnrolled(run: RelayRun, inv: Inventory, opts: CommonOptions): Promise<number> {
  const issued = (run.state.host(run.relay).facts.relay_issued as Record<string, string> | undefined) ?? {};
  const ran = Object.keys(issued).filter((d) => inv.hosts.has(d) && run.state.stats.has(d));
  const reached = (d: string) => !run.state.host(d).unreachable && !run.state.host(d).failed;
  const awaiting = new Set(ran.filter((d) => run.state.host(d).unreachable));
  for (const d of awaiting) {
    process.stderr.write(`${d}: awaiting first contact (enrolled ${issued[d]}): its tunnel has not come up yet.\n`);
  }
  const code = exitCodeFor(run.state, awaiting);
  const firstContact = ran.filter(reached);
  if (code !== 0 || !firstContact.length || opts.check) return code;
  process.stderr.write(
    `first contact with ${firstContact.join(', ')}: replacing the relay key that travelled in the user-data\n`,
  );
  // --json promises one object on stdout: this second run reports on stderr.
  const reporter = opts.json
    ? new PlainReporter({ diff: false, verbose: 0 }, (s) => process.stderr.write(s))
    : undefined;
  const rotated = await runRelayPlaybook(
    'rotate',
    inv,
    { ...opts, limit: undefined },
    { targets: firstContact, reporter },
  );
  for (const d of firstContact) {
    const { done, late } = rotationOf(rotated, d);
    process.stderr.write(
      done && !late.length
        ? `${d}: new relay key in use; the one from its user-data is refused.\n`
        : done
          ? `${d}: new relay key in use; ${late.join(', ')} still accept${late.length > 1 ? '' : 's'} the one from its user-data until the next apply that reaches ${late.length > 1 ? 'them' : 'it'}.\n`
          : `${d}: its relay key was not replaced (see above); the next apply tries again.\n`,
    );
  }
  return rotated.code;
}
