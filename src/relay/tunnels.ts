// The fleet state recorded on the relay, and which hosts of an inventory are the relay and its devices.
import { type Connection, type Inventory, shScript } from '../engine/index.js';
import { parseFleet, type FleetState } from './fleet.js';

export const FLEET_STATE_FILE = '/var/lib/relay-play/fleet.json';

// World-readable (0644, no secrets): no sudo, so reading it costs the relay no privileged round trip.
const READ_FLEET = 'if [ -f "$1" ]; then cat -- "$1"; fi';

/** Read the fleet state on the relay. */
export async function readFleet(relay: Connection): Promise<FleetState> {
  let r = await relay.run(shScript(READ_FLEET, [FLEET_STATE_FILE]));
  if (r.code !== 0) r = await relay.run(shScript(READ_FLEET, [FLEET_STATE_FILE]), { become: true });
  if (r.code !== 0) throw new Error(`cannot read ${FLEET_STATE_FILE} on the relay: ${r.stderr.trim()}`);
  return parseFleet(r.stdout);
}

/** A relay inventory: exactly one host in `relay`, and the hosts in `devices`. */
export function relayOf(inv: Inventory): { relay: string; devices: Set<string> } | undefined {
  const relays = inv.groups.get('relay') ?? [];
  if (relays.length !== 1) return undefined;
  return { relay: relays[0], devices: new Set(inv.groups.get('devices') ?? []) };
}
