// The fleet state recorded on the relay, and which hosts of an inventory are the relay and its devices.
import { type Connection, type Inventory, shFile, shScript } from '../engine/index.js';
import { parseFleet, type FleetState } from './fleet.js';

export const FLEET_STATE_FILE = '/var/lib/relay-play/fleet.json';

/**
 * Read the fleet state on the relay (read-fleet.sh). World-readable (0644, no secrets): no sudo, so
 * reading it costs the relay no privileged round trip.
 */
export async function readFleet(relay: Connection): Promise<FleetState> {
  const read = shScript(shFile('relay/read-fleet.sh'), [FLEET_STATE_FILE]);
  let r = await relay.run(read);
  if (r.code !== 0) r = await relay.run(read, { become: true });
  if (r.code !== 0) throw new Error(`cannot read ${FLEET_STATE_FILE} on the relay: ${r.stderr.trim()}`);
  return parseFleet(r.stdout);
}

/** A relay inventory: its hosts in `relay` (one or more, in the inventory's order), and the hosts in `devices`. */
export function relayOf(inv: Inventory): { relays: string[]; devices: Set<string> } | undefined {
  const relays = inv.groups.get('relay') ?? [];
  if (!relays.length) return undefined;
  return { relays, devices: new Set(inv.groups.get('devices') ?? []) };
}
