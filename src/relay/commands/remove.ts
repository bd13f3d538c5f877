// `relay-play remove INVENTORY DEVICE`: every relay refuses the device's key and ends its tunnel at
// once, frees its ports; the device's tunnel services (one per relay) and relay key go if it can be
// reached; every client forgets it. A device that cannot be reached is reported, and the removal still
// counts. A relay that cannot be reached refuses the device from the next run that reaches it on.
import { InputError, isHostName, loadInventory, type CommonOptions } from '../../engine/index.js';
import { isNixos, prepareRelayInventory } from '../inventory.js';
import { nixosSections } from './nixos.js';
import { reportFleetChanges, runRelayPlaybook } from './relay-run.js';

export async function removeCommand(inventoryFile: string, device: string, opts: CommonOptions): Promise<number> {
  const inv = loadInventory(inventoryFile);
  prepareRelayInventory(inv);
  const relays = inv.groups.get('relay')!;
  const devices = inv.groups.get('devices') ?? [];
  if (!isHostName(device))
    throw new InputError(
      `"${device}" is not a device name`,
      undefined,
      'name a device of the inventory, or one recorded on the relay',
    );
  if (relays.includes(device) || (inv.groups.get('clients') ?? []).includes(device)) {
    throw new InputError(
      `${device} is not a device (it is ${relays.includes(device) ? (relays.length > 1 ? 'a relay' : 'the relay') : 'a client'})`,
      undefined,
      'remove a client by deleting it from the inventory and running apply --prune',
    );
  }
  // A device already deleted from the inventory can still be removed from the relay by its recorded name.
  const inInventory = devices.includes(device);
  const run = await runRelayPlaybook(
    'remove',
    inv,
    { ...opts, limit: undefined },
    { relayVars: { relay_remove: [device] }, targets: inInventory ? [device] : [] },
  );
  reportFleetChanges(run, inventoryFile, opts);
  // A NixOS relay keeps authorizing the key until its configuration changes: print it.
  if (relays.some((r) => isNixos(inv.hosts.get(r)!.vars))) {
    const nix = nixosSections(run.state, inv, inventoryFile);
    (opts.json ? process.stderr : process.stdout).write(nix);
  }

  const stats = [...run.state.stats.entries()];
  const failed = stats.some(([, s]) => s.failures > 0);
  const othersUnreachable = stats.some(([h, s]) => h !== device && s.unreachable > 0);
  // A relay not reached still lets the device in: its copy of the fleet state is older than the removal,
  // so the next run that reaches it takes the device out there too (src/relay/fleet-merge.ts).
  for (const r of relays.filter((r) => run.state.host(r).unreachable))
    process.stderr.write(
      `${r} could not be reached: it still accepts ${device}'s key; the next apply or remove that reaches it refuses it there too.\n`,
    );
  if (!failed && !othersUnreachable && inInventory) {
    const vars = inv.hosts.get(device)!.vars;
    if (isNixos(vars)) {
      process.stderr.write(
        `${device} runs NixOS: delete systemd.services.relay-tunnel (and relay-tunnel-<relay>: relay-play's module) from its configuration.\n`,
      );
    } else if (run.state.host(device).unreachable) {
      const several = relays.length > 1;
      process.stderr.write(
        `${device} could not be reached: its relay-tunnel ${several ? 'services are' : 'service is'} still installed there (${several ? 'they' : 'it'} can no longer connect). ` +
          `When it is back: relay-play remove ${inventoryFile} ${device} again, or systemctl disable --now relay-tunnel${several ? " 'relay-tunnel-*'" : ''} on it.\n`,
      );
    }
    if (!opts.check)
      process.stderr.write(
        `Delete ${device} from ${inventoryFile} too: an apply with it still listed enrolls it again.\n`,
      );
  }
  if (failed) return 2;
  return othersUnreachable ? 4 : 0;
}
