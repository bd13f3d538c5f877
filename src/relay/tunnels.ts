// Where each device's tunnel is, for reaching devices through the relay (src/runner/route.ts):
// this run's fleet facts when the relay play has run (a new port, a new device), else the fleet
// state recorded on the relay, read once per run over the relay's connection.
import { shScript } from '../engine/util/quote.js';
import type { Connection } from '../engine/connection/types.js';
import type { Inventory } from '../engine/inventory/index.js';
import type { Tunnel, Tunnels } from '../engine/runner/route.js';
import { bareKey, parseFleet, type FleetState } from './fleet.js';

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

export function fleetTunnels(
  relay: string,
  devices: Set<string>,
  relayConnection: () => Promise<Connection>,
  runFacts: (device: string) => Record<string, unknown>,
  /** The fleet state, when the caller has already read it. */
  known?: FleetState,
): Tunnels & { isDevice(host: string): boolean } {
  let fleet: Promise<FleetState> | undefined = known && Promise.resolve(known);
  return {
    relayName: relay,
    isDevice: (host) => devices.has(host),
    relay: relayConnection,
    async lookup(device): Promise<Tunnel | undefined> {
      const f = runFacts(device);
      const key = bareKey(f.tunnel_host_key as string | undefined);
      if (Number.isInteger(f.tunnel_port) && key)
        return {
          port: f.tunnel_port as number,
          hostKey: key,
          formerPorts: (f.tunnel_retiring as number[] | undefined) ?? [],
        };
      fleet ??= relayConnection().then(readFleet);
      const rec = (await fleet).devices[device];
      const recorded = bareKey(rec?.host_key);
      return rec && recorded ? { port: rec.port, hostKey: recorded } : undefined;
    },
  };
}
