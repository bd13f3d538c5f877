// `relay-play rotate INVENTORY DEVICE|--all`: new relay keys with no gap longer than a tunnel
// restart — every relay accepts old and new, each device checks its new key works on each of its
// relays, switches and restarts its tunnels (one per relay), then the relays forget the old keys.
import { InputError, loadInventory, type CommonOptions } from '../../engine/index.js';
import { isNixos, prepareRelayInventory } from '../inventory.js';
import { reportFleetChanges, rotationOf, runRelayPlaybook } from './relay-run.js';

export async function rotateCommand(
  inventoryFile: string,
  device: string | undefined,
  opts: CommonOptions & { all?: boolean },
): Promise<number> {
  const inv = loadInventory(inventoryFile);
  prepareRelayInventory(inv);
  const relays = inv.groups.get('relay')!;
  const devices = inv.groups.get('devices') ?? [];
  const vars = (h: string) => inv.hosts.get(h)!.vars;
  if (Boolean(device) === Boolean(opts.all))
    throw new InputError(
      device ? 'name one device or give --all, not both' : 'name the device whose relay key to rotate, or give --all',
      undefined,
      'relay-play rotate INVENTORY rpi1   |   relay-play rotate INVENTORY --all',
    );
  const nixosRelay = relays.find((r) => isNixos(vars(r)));
  if (nixosRelay) {
    throw new InputError(
      `the relay ${nixosRelay} runs NixOS: its authorized keys are in its configuration`,
      undefined,
      'rotate by hand: new key on the device, relay_public_key in the inventory, apply, relay-play nixos, nixos-rebuild',
    );
  }
  let targets: string[];
  if (device) {
    if (!devices.includes(device))
      throw new InputError(
        `${device} is not a device of ${inventoryFile}`,
        undefined,
        `devices: ${devices.join(', ') || '(none)'}`,
      );
    if (isNixos(vars(device)))
      throw new InputError(
        `${device} runs NixOS: relay-play does not change its files`,
        undefined,
        'make a new key there, set relay_public_key in the inventory and run apply',
      );
    targets = [device];
  } else {
    targets = devices.filter((d) => !isNixos(vars(d)));
    const skipped = devices.filter((d) => isNixos(vars(d)));
    if (skipped.length)
      process.stderr.write(`skipping NixOS devices (rotate their keys by hand): ${skipped.join(', ')}\n`);
  }
  const run = await runRelayPlaybook(
    'rotate',
    inv,
    { ...opts, limit: undefined, check: false, diff: opts.diff },
    { targets },
  );
  reportFleetChanges(run, inventoryFile, {});
  for (const t of targets) {
    const { switched, done, late } = rotationOf(run, t);
    if (done && !late.length) process.stderr.write(`${t}: new relay key in use; the old one is refused.\n`);
    else if (done)
      process.stderr.write(
        `${t}: new relay key in use; ${late.join(', ')} ${late.length > 1 ? 'were' : 'was'} not brought up to date: ` +
          `the next apply or rotate that reaches ${late.length > 1 ? 'them' : 'it'} lets the new key in and refuses the old one.\n`,
      );
    else if (switched)
      process.stderr.write(
        `${t}: switched to its new key, but the relays still accept the old one too: run rotate again.\n`,
      );
    else process.stderr.write(`${t}: not rotated (see above); its old key still works.\n`);
  }
  return run.code;
}
