// Several relays: which relays a device tunnels to, and what its tunnel to each is called on the device.
import { createHash } from 'node:crypto';

/** A relay's name as it may appear in unit and file names on a device (an inventory host name). */
export const RELAY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const weight = (relay: string, device: string) =>
  createHash('sha256').update(`${relay}\0${device}`).digest().readBigUInt64BE(0);

/**
 * The relays a device keeps a tunnel to, in the inventory's order: all of them, or with `perDevice`
 * (relays_per_device) the K with the highest rendezvous weight for this device — so adding a relay
 * moves only the devices that now rank it in their top K, and removing one only those that had it.
 */
export function relaysOf(device: string, relays: readonly string[], perDevice?: number): string[] {
  if (!perDevice || perDevice >= relays.length) return [...relays];
  const chosen = new Set(
    [...relays]
      .sort((a, b) => {
        const wa = weight(a, device);
        const wb = weight(b, device);
        return wa === wb ? a.localeCompare(b) : wa > wb ? -1 : 1;
      })
      .slice(0, perDevice),
  );
  return relays.filter((r) => chosen.has(r));
}

/** The device's unit for its tunnel to `relay`: relay-tunnel.service for its first relay (see DeviceRecord.first_relay). */
export function tunnelUnitName(relay: string, firstRelay: string | undefined): string {
  return firstRelay === undefined || firstRelay === relay ? 'relay-tunnel.service' : `relay-tunnel-${relay}.service`;
}
