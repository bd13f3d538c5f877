// The fleet's state, kept on the relay (the source of truth, so any machine can run apply with
// no local state): each device's tunnel port, relay key and host key; each client's jump key.
// Pure functions: the relay_fleet module reads and writes, this only decides.

export interface DeviceRecord {
  port: number;
  relay_key?: string; // "ssh-ed25519 AAAA..." (public)
  host_key?: string; // the device's sshd ed25519 host key (public)
  login_user?: string;
}

export interface FleetState {
  version: 1;
  devices: Record<string, DeviceRecord>;
  clients: Record<string, { jump_key?: string }>;
}

export interface DeviceInput {
  name: string;
  explicitPort?: number;
  relayKey?: string;
  hostKey?: string;
  loginUser?: string;
}

export interface FleetInput {
  devices: DeviceInput[];
  clients: { name: string; jumpKey?: string }[];
  portBase: number;
}

export const emptyFleet = (): FleetState => ({ version: 1, devices: {}, clients: {} });

export function parseFleet(text: string): FleetState {
  if (!text.trim()) return emptyFleet();
  const data = JSON.parse(text) as FleetState;
  if (data.version !== 1 || typeof data.devices !== 'object') throw new Error('unrecognised fleet state file');
  return { version: 1, devices: data.devices ?? {}, clients: data.clients ?? {} };
}

/** "ssh-ed25519 AAAA... comment" → "ssh-ed25519 AAAA..." (comments are ours to set). */
export function bareKey(line: string | undefined): string | undefined {
  const text = (line ?? '').trim();
  // One line only: a key that spans lines could smuggle options into authorized_keys.
  if (text.includes('\n')) return undefined;
  const [type, blob] = text.split(/\s+/);
  if (!type || !blob || !/^(ssh-|ecdsa-|sk-)/.test(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return undefined;
  // The blob must really be a key of that type (it starts with its own type name).
  const raw = Buffer.from(blob, 'base64');
  if (raw.length < 4 + type.length || raw.readUInt32BE(0) !== type.length || raw.subarray(4, 4 + type.length).toString() !== type) return undefined;
  return `${type} ${blob}`;
}

/**
 * Next state: members are exactly the inventory's devices and clients; explicit ports win, a
 * device keeps the port the relay recorded for it, and new devices get the lowest free port from
 * the base, allocated in name order so inventory order never matters. Keys not readable this run
 * (device offline) are kept from the recorded state.
 */
export function planFleet(old: FleetState, input: FleetInput): FleetState {
  const next = emptyFleet();
  const taken = new Map<number, string>();
  for (const d of input.devices) {
    if (d.explicitPort === undefined) continue;
    const other = taken.get(d.explicitPort);
    if (other) throw new Error(`devices ${other} and ${d.name} both use tunnel_port ${d.explicitPort}; give each device its own port`);
    taken.set(d.explicitPort, d.name);
  }
  const portOf = new Map<string, number>();
  for (const d of input.devices) {
    if (d.explicitPort !== undefined) portOf.set(d.name, d.explicitPort);
  }
  for (const d of input.devices) {
    const recorded = old.devices[d.name]?.port;
    if (d.explicitPort === undefined && recorded !== undefined && !taken.has(recorded)) {
      portOf.set(d.name, recorded);
      taken.set(recorded, d.name);
    }
  }
  let candidate = input.portBase;
  for (const d of [...input.devices].sort((a, b) => a.name.localeCompare(b.name))) {
    if (portOf.has(d.name)) continue;
    while (taken.has(candidate)) candidate++;
    if (candidate > 65535) throw new Error(`no free tunnel port left above tunnel_port_base ${input.portBase}`);
    portOf.set(d.name, candidate);
    taken.set(candidate, d.name);
  }
  // Sorted by name, so the recorded file never depends on inventory order.
  const byName = <T extends { name: string }>(list: T[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));
  for (const d of byName(input.devices)) {
    const was = old.devices[d.name] ?? {};
    const rec: DeviceRecord = { port: portOf.get(d.name)! };
    const relayKey = bareKey(d.relayKey) ?? was.relay_key;
    const hostKey = bareKey(d.hostKey) ?? was.host_key;
    const loginUser = d.loginUser ?? was.login_user;
    if (relayKey) rec.relay_key = relayKey;
    if (hostKey) rec.host_key = hostKey;
    if (loginUser) rec.login_user = loginUser;
    next.devices[d.name] = rec;
  }
  for (const c of byName(input.clients)) {
    const jump = bareKey(c.jumpKey) ?? old.clients[c.name]?.jump_key;
    next.clients[c.name] = jump ? { jump_key: jump } : {};
  }
  return next;
}

export function serializeFleet(state: FleetState): string {
  return JSON.stringify(state, null, 2) + '\n';
}

export interface DeviceEntry {
  name: string;
  port: number;
  relay_key?: string;
  host_key?: string;
  login_user?: string;
}

/** Devices sorted by name, for templates (authorized_keys, sshd Match block, client config). */
export function deviceEntries(state: FleetState): DeviceEntry[] {
  return Object.keys(state.devices)
    .sort()
    .map((name) => ({ name, ...state.devices[name] }));
}
