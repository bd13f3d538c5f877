// Running one of relay-play's bundled playbooks (site, remove, rotate) on a prepared inventory,
// under the relay's run lock, keeping the run state so commands can report what the relay decided.
import {
  type CommonOptions,
  exitCodeFor,
  extraVars,
  type Inventory,
  loadPlaybook,
  pickReporter,
  renderPlayHosts,
  runnerOptions,
  type Reporter,
  runPlaybook,
  type RunState,
  trace,
} from '../../engine/index.js';
import { isNixos } from '../inventory.js';
import { bundledPlaybook, relayApp, type BundledPlaybook } from '../app.js';

/** The group the remove and rotate playbooks act on. */
export const TARGETS_GROUP = 'relay_play_targets';

export interface RelayRun {
  state: RunState;
  code: number;
  relay: string;
}

/** Run a bundled playbook. `relayVars` are set on the relay host (e.g. relay_prune); `targets` fill relay_play_targets. */
export async function runRelayPlaybook(
  name: BundledPlaybook,
  inv: Inventory,
  opts: CommonOptions,
  extra: { relayVars?: Record<string, unknown>; targets?: string[]; reporter?: Reporter } = {},
): Promise<RelayRun> {
  const relays = inv.groups.get('relay')!;
  const relay = relays[0];
  inv.groups.set(TARGETS_GROUP, extra.targets ?? []);
  for (const r of relays) Object.assign(inv.hosts.get(r)!.vars, extra.relayVars ?? {});
  // -e as `run` takes it: over every other variable of the bundled playbook's tasks.
  const extraGiven = extraVars(opts.extraVars ?? []);
  const pb = renderPlayHosts(loadPlaybook(bundledPlaybook(name), relayApp), extraGiven);
  trace('playbook loaded');
  const state = await runPlaybook(
    pb,
    inv,
    {
      // Two runs on one fleet must not interleave: the second waits, then refuses. Every relay's lock, in
      // name order: runs with different inventories of the same relays take them in the same order.
      ...runnerOptions(
        opts,
        relayApp,
        [...relays].sort().map((host) => ({ host, path: '/run/lock/relay-play.lock', waitSeconds: opts.lockWait })),
      ),
      extraVars: extraGiven,
    },
    extra.reporter ?? (await pickReporter(opts)),
  );
  return { state, code: exitCodeFor(state), relay };
}

/**
 * How a device's key rotation (the rotate playbook) ended: `switched`, its tunnels use the new key;
 * `done`, and every relay reached dropped the old one; `late`, its relays not reached (or failed), which
 * still accept the old key until the next run that reaches them.
 */
export function rotationOf(run: RelayRun, device: string): { switched: boolean; done: boolean; late: string[] } {
  const h = run.state.host(device);
  const switched = (h.facts.key_switch as { tunnel?: string } | undefined)?.tunnel === 'confirmed';
  const mine = ((h.facts.tunnel_relays as { name: string }[] | undefined) ?? []).map((r) => r.name);
  const late = (run.state.inventory.groups.get('relay') ?? []).filter(
    (r) => (run.state.host(r).failed || run.state.host(r).unreachable) && (!mine.length || mine.includes(r)),
  );
  return { switched, done: switched && !h.failed && !h.unreachable, late };
}

/** What the relay decided about devices and clients missing from the inventory, on stderr. */
export function reportFleetChanges(run: RelayRun, inventoryFile: string, opts: { check?: boolean }): void {
  const facts = run.state.host(run.relay).facts;
  const kept = (facts.relay_kept as string[] | undefined) ?? [];
  const dropped = (facts.relay_dropped as string[] | undefined) ?? [];
  const would = opts.check ? 'would be ' : '';
  for (const name of kept) {
    process.stderr.write(
      `warning: ${name} is recorded on the relay but not in ${inventoryFile}: kept (its key still works, its port stays reserved).\n` +
        `  To revoke it: relay-play remove ${inventoryFile} ${name}   (or apply --prune to remove every host missing from the inventory)\n`,
    );
  }
  const relays = run.state.inventory.groups.get('relay') ?? [run.relay];
  const nixosRelays = relays.filter((r) => isNixos(run.state.inventory.hosts.get(r)!.vars));
  for (const name of dropped) {
    const inInventory = run.state.inventory.hosts.has(name);
    if (nixosRelays.length === relays.length)
      process.stderr.write(
        `${name} ${would}removed from the fleet state; the relay${relays.length > 1 ? 's run' : ' runs'} NixOS: its key goes with the configuration printed below (nixos-rebuild switch).\n`,
      );
    else
      process.stderr.write(
        `${name} ${would}removed from the relay${relays.length > 1 ? 's' : ''}: its key ${opts.check ? 'would be' : 'is'} refused and its tunnel ended.\n` +
          (nixosRelays.length
            ? `  ${nixosRelays.join(', ')} run${nixosRelays.length > 1 ? '' : 's'} NixOS: there its key goes with the configuration printed below (nixos-rebuild switch).\n`
            : ''),
      );
    if (!inInventory)
      process.stderr.write(
        `  ${name} is not in the inventory, so its own relay-tunnel service was not touched; it can no longer connect.\n`,
      );
  }
}
