// One fleet state out of the copies several relays keep (relay_fleet reads every reachable relay's copy,
// merges them here, plans, and writes the result to all of them).
import type { FleetState } from './fleet.js';

/** One relay's copy of the fleet state. */
export interface FleetCopy {
  relay: string;
  state: FleetState;
}

const serialOf = (s: FleetState) => s.serial ?? 0;

/**
 * One state from the copies the reachable relays hold. Every write raises the serial, so the copy with
 * the highest serial holding a device (or client) is the latest word on it (ties: the first copy in
 * `copies`' order, the inventory's). A record is dropped when a removal newer than its copy is known
 * (`removed`: name → the serial that removed it), so a relay that was down during a `remove` cannot bring
 * the device back. Ports two copies gave to different devices (runs that each saw only one relay) are
 * left to the planner, which keeps each port for one device (by name) and moves the other.
 */
export function mergeFleets(copies: readonly FleetCopy[]): FleetState {
  if (copies.length === 1) return copies[0].state;
  const merged: FleetState = { version: 1, devices: {}, clients: {} };
  const ordered = [...copies].sort((a, b) => serialOf(b.state) - serialOf(a.state));
  merged.serial = Math.max(0, ...copies.map((c) => serialOf(c.state)));
  const removed: Record<string, number> = {};
  for (const c of copies)
    for (const [name, at] of Object.entries(c.state.removed ?? {})) removed[name] = Math.max(removed[name] ?? 0, at);
  // A removal at serial S outlives every copy older than S; a device added again later is in a newer copy.
  const alive = (name: string, c: FleetCopy) => removed[name] === undefined || removed[name] < serialOf(c.state);
  for (const kind of ['devices', 'clients'] as const) {
    const names = new Set(copies.flatMap((c) => Object.keys(c.state[kind])));
    for (const name of [...names].sort()) {
      const from = ordered.find((c) => c.state[kind][name] !== undefined)!;
      if (!alive(name, from)) continue;
      (merged[kind] as Record<string, unknown>)[name] = from.state[kind][name];
    }
  }
  const live = Object.fromEntries(
    Object.entries(removed).filter(([name]) => !merged.devices[name] && !merged.clients[name]),
  );
  if (Object.keys(live).length) merged.removed = live;
  const relays: NonNullable<FleetState['relays']> = {};
  for (const c of [...ordered].reverse()) Object.assign(relays, c.state.relays ?? {});
  if (Object.keys(relays).length) merged.relays = relays;
  return merged;
}
