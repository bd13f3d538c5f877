// The fleet's state, kept on the relay (the source of truth, so any machine can run apply with
// no local state): each device's tunnel port, extra forwarded ports, relay key(s) and host key;
// each client's jump key. Pure functions: the relay_fleet module reads and writes, this only decides.
import { RELAY_NAME, relaysOf } from './relays.js';

/** An extra service of a device, reachable through the relay: relay port → the device's host:port. */
export interface ForwardRecord {
  /** The service's port on the device side (the target of the reverse forward). */
  port: number;
  /** The port the device listens on, on the relay (allocated like tunnel ports). */
  relay_port: number;
  /** The target host as seen from the device (default localhost). */
  host?: string;
  /** The client-side port of `ssh -N <device>-<name>` (default: relay_port). */
  local_port?: number;
}

export interface DeviceRecord {
  port: number;
  relay_key?: string; // "ssh-ed25519 AAAA..." (public)
  /** A key rotation in progress: the device's new key, authorized beside relay_key until it switches. */
  next_relay_key?: string;
  host_key?: string; // the device's sshd ed25519 host key (public)
  login_user?: string;
  forwards?: Record<string, ForwardRecord>;
  /**
   * Enrolled with `relay-play enroll`: keys made on the admin's machine and shipped in user-data.
   * Kept while the device still uses that relay key; the first apply that reaches it rotates the key.
   */
  issued?: { at: string; relay_key: string };
  /** With several relays: the relays the device keeps a tunnel to (inventory order). */
  relays?: string[];
  /**
   * With several relays: the relay whose tunnel is the device's relay-tunnel.service (the others run as
   * relay-tunnel-<relay>.service). Kept once set, so no relay's tunnel is ever renamed on the device.
   */
  first_relay?: string;
}

export interface FleetState {
  version: 1;
  /** Raised by every write that changes the state: the newest of the relays' copies wins (relays.ts). */
  serial?: number;
  devices: Record<string, DeviceRecord>;
  clients: Record<string, { jump_key?: string }>;
  /** Devices and clients taken out, with the serial that took them out (so an older copy cannot bring them back). */
  removed?: Record<string, number>;
  /** With several relays: each relay's host key, so a device can pin a relay that is down during a run. */
  relays?: Record<string, { host_key: string }>;
}

export interface ForwardInput {
  name: string;
  port: number;
  relayPort?: number;
  host?: string;
  localPort?: number;
}

export interface DeviceInput {
  name: string;
  explicitPort?: number;
  /** The key the device uses now (read from it this run); undefined when not read. */
  relayKey?: string;
  /** A new key waiting on the device (rotation); authorized beside relayKey. */
  nextRelayKey?: string;
  hostKey?: string;
  loginUser?: string;
  forwards?: ForwardInput[];
  /** The relay ports the device's installed tunnel unit holds now (read this run); undefined when not read. */
  currentPorts?: number[];
  /** `relay-play enroll`: relayKey and hostKey were made on the admin's machine at this time (ISO). */
  issuedAt?: string;
}

export interface FleetInput {
  devices: DeviceInput[];
  clients: { name: string; jumpKey?: string }[];
  portBase: number;
  /** Drop recorded devices and clients that are not in the inventory (default: keep them). */
  prune?: boolean;
  /** Devices to take out of the fleet even though they may be in the inventory. */
  remove?: string[];
  /** Every relay of the inventory, in its order (one: the single-relay layout, nothing recorded per relay). */
  relays?: string[];
  /** relays_per_device: each device tunnels to this many relays (default: all). */
  perDevice?: number;
  /** The host key of each relay read this run. */
  relayHostKeys?: Record<string, string>;
  /** The copy on the relay being written, when `old` merges several: the ports whose sessions end there follow from it. */
  here?: FleetState;
  /** The relay being written (several relays): a device that no longer tunnels to it has its sessions ended there. */
  hereRelay?: string;
}

export interface FleetPlan {
  state: FleetState;
  /** Recorded devices and clients missing from the inventory, kept as they were (no prune). */
  kept: string[];
  /** Devices and clients taken out of the record by this run. */
  dropped: string[];
  /** Relay ports whose tunnel sessions must end: their device is gone, or the port now belongs to another device. */
  droppedPorts: number[];
  /**
   * Per device, the ports its running tunnel holds that it will not hold once changed (a removed
   * forward, a new tunnel_port). The device's key may still listen there during this run: if its new
   * tunnel is never confirmed, the device goes back to the old one, which must still be let in.
   */
  retiring: Record<string, number[]>;
}

export const emptyFleet = (): FleetState => ({ version: 1, devices: {}, clients: {} });

const isPortNumber = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;

export function parseFleet(text: string): FleetState {
  if (!text.trim()) return emptyFleet();
  const data = JSON.parse(text) as FleetState;
  if (data.version !== 1 || typeof data.devices !== 'object') throw new Error('unrecognised fleet state file');
  // Ports from this file reach shell commands (ss filters, kill): they must be plain numbers.
  for (const [name, d] of Object.entries(data.devices ?? {})) {
    if (!isPortNumber(d?.port)) throw new Error(`device ${name}: bad port ${JSON.stringify(d?.port)}`);
    for (const [fw, f] of Object.entries(d.forwards ?? {})) {
      if (!isPortNumber(f?.relay_port) || !isPortNumber(f?.port))
        throw new Error(`device ${name}, forward ${fw}: bad port`);
    }
  }
  if (data.serial !== undefined && !(Number.isInteger(data.serial) && data.serial >= 0))
    throw new Error(`bad serial ${JSON.stringify(data.serial)}`);
  // Relay names from this file name units and files on devices.
  const names = [
    ...Object.values(data.devices ?? {}).flatMap((d) => [
      ...(d.relays ?? []),
      ...(d.first_relay ? [d.first_relay] : []),
    ]),
    ...Object.keys(data.relays ?? {}),
  ];
  const bad = names.find((n) => typeof n !== 'string' || !RELAY_NAME.test(n));
  if (bad !== undefined) throw new Error(`bad relay name ${JSON.stringify(bad)}`);
  return {
    version: 1,
    ...(data.serial ? { serial: data.serial } : {}),
    devices: data.devices ?? {},
    clients: data.clients ?? {},
    ...(data.removed && Object.keys(data.removed).length ? { removed: data.removed } : {}),
    ...(data.relays && Object.keys(data.relays).length ? { relays: data.relays } : {}),
  };
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
  if (
    raw.length < 4 + type.length ||
    raw.readUInt32BE(0) !== type.length ||
    raw.subarray(4, 4 + type.length).toString() !== type
  )
    return undefined;
  return `${type} ${blob}`;
}

const byName = (a: string, b: string) => a.localeCompare(b);

/** Every relay port a device record holds: its tunnel, then its forwards by name. Keys: "dev", "dev/fw". */
export function recordPorts(name: string, rec: DeviceRecord): { key: string; port: number }[] {
  const out = [{ key: name, port: rec.port }];
  for (const fw of Object.keys(rec.forwards ?? {}).sort(byName))
    out.push({ key: `${name}/${fw}`, port: rec.forwards![fw].relay_port });
  return out;
}

const label = (key: string) => (key.includes('/') ? `forward ${key.replace('/', ' ')}` : `device ${key}`);

/**
 * Next state. Devices of the inventory get a port each (their tunnel) and one per forward: explicit
 * ports win, a port the relay recorded is kept, new ones get the lowest free port from the base,
 * in name order (tunnel before forwards), so inventory order never matters. Recorded devices and
 * clients missing from the inventory are kept as they are unless `prune`; `remove` takes devices out
 * either way. Keys not readable this run (device offline) are kept from the recorded state.
 */
export function planFleetChanges(old: FleetState, input: FleetInput): FleetPlan {
  const remove = new Set(input.remove ?? []);
  const relays = input.relays ?? [];
  const multi = relays.length > 1;
  const inInventory = new Set(input.devices.map((d) => d.name));
  for (const r of remove) {
    if (!inInventory.has(r) && !old.devices[r]) throw new Error(`no device ${r} in the fleet or the inventory`);
  }
  const members = input.devices.filter((d) => !remove.has(d.name));
  const absentDevices = Object.keys(old.devices).filter((n) => !inInventory.has(n) && !remove.has(n));
  const clientNames = new Set(input.clients.map((c) => c.name));
  const absentClients = Object.keys(old.clients).filter((n) => !clientNames.has(n));
  const keptDevices = input.prune ? [] : absentDevices;
  const keptClients = input.prune ? [] : absentClients;

  // Slots: one per port wanted, in allocation order.
  interface Slot {
    key: string;
    explicit?: number;
  }
  const slots: Slot[] = [];
  for (const d of [...members].sort((a, b) => byName(a.name, b.name))) {
    slots.push({ key: d.name, explicit: d.explicitPort });
    const seen = new Set<string>();
    for (const f of [...(d.forwards ?? [])].sort((a, b) => byName(a.name, b.name))) {
      if (seen.has(f.name)) throw new Error(`device ${d.name} has two forwards named ${f.name}`);
      seen.add(f.name);
      slots.push({ key: `${d.name}/${f.name}`, explicit: f.relayPort });
    }
  }
  const taken = new Map<number, string>();
  for (const s of slots) {
    if (s.explicit === undefined) continue;
    const other = taken.get(s.explicit);
    if (other) {
      const both =
        !other.includes('/') && !s.key.includes('/')
          ? `devices ${other} and ${s.key} both use tunnel_port`
          : `${label(other)} and ${label(s.key)} both use relay port`;
      throw new Error(`${both} ${s.explicit}; give each its own port`);
    }
    taken.set(s.explicit, s.key);
  }
  for (const name of keptDevices) {
    for (const { key, port } of recordPorts(name, old.devices[name])) {
      const other = taken.get(port);
      if (other) {
        throw new Error(
          `relay port ${port} is recorded for device ${name}, which is not in this inventory (kept), so ${label(other)} cannot use it; ` +
            `remove ${name} (relay-play remove, or apply --prune) or choose another port`,
        );
      }
      taken.set(port, key);
    }
  }
  // A port a member's running tunnel still holds is not given to anyone else this run.
  const retiringOf = new Map<string, number[]>();
  for (const d of members) {
    const was = old.devices[d.name];
    const now = d.currentPorts ?? (was ? recordPorts(d.name, was).map((p) => p.port) : []);
    retiringOf.set(d.name, now);
  }
  const recorded = new Map<string, number>();
  for (const [name, rec] of Object.entries(old.devices))
    for (const { key, port } of recordPorts(name, rec)) recorded.set(key, port);
  const portOf = new Map<string, number>();
  for (const s of slots) {
    if (s.explicit !== undefined) {
      portOf.set(s.key, s.explicit);
      continue;
    }
    const was = recorded.get(s.key);
    if (was !== undefined && !taken.has(was)) {
      portOf.set(s.key, was);
      taken.set(was, s.key);
    }
  }
  const held = new Set([...retiringOf.values()].flat());
  let candidate = input.portBase;
  for (const s of slots) {
    if (portOf.has(s.key)) continue;
    while (taken.has(candidate) || held.has(candidate)) candidate++;
    if (candidate > 65535) throw new Error(`no free relay port left above tunnel_port_base ${input.portBase}`);
    portOf.set(s.key, candidate);
    taken.set(candidate, s.key);
  }

  // Sorted by name, so the recorded file never depends on inventory order.
  const devices: Record<string, DeviceRecord> = {};
  const reissued: string[] = [];
  for (const d of members) {
    const was = old.devices[d.name] ?? {};
    const rec: DeviceRecord = { port: portOf.get(d.name)! };
    const current = bareKey(d.relayKey);
    let relayKey = was.relay_key;
    let nextKey = was.next_relay_key;
    if (current) {
      // The device told us which key it uses: that one, plus a new one waiting to be switched to.
      relayKey = current;
      const next = bareKey(d.nextRelayKey);
      nextKey = next && next !== current ? next : undefined;
    }
    const hostKey = bareKey(d.hostKey) ?? was.host_key;
    const loginUser = d.loginUser ?? was.login_user;
    if (relayKey) rec.relay_key = relayKey;
    if (nextKey) rec.next_relay_key = nextKey;
    // An issued key is remembered until the device uses another one (the first apply rotates it).
    const issued = d.issuedAt && relayKey ? { at: d.issuedAt, relay_key: relayKey } : was.issued;
    if (issued && issued.relay_key === relayKey) rec.issued = issued;
    // Issued again (--reissue): the session of the key it replaces ends now.
    if (d.issuedAt && was.relay_key && was.relay_key !== relayKey) reissued.push(d.name);
    if (hostKey) rec.host_key = hostKey;
    if (loginUser) rec.login_user = loginUser;
    if (multi) {
      rec.relays = relaysOf(d.name, relays, input.perDevice);
      // Set once: the tunnel the device already runs as relay-tunnel.service stays that unit.
      rec.first_relay = was.first_relay ?? rec.relays[0];
    }
    const fws = [...(d.forwards ?? [])].sort((a, b) => byName(a.name, b.name));
    if (fws.length) {
      rec.forwards = {};
      for (const f of fws) {
        const fr: ForwardRecord = { port: f.port, relay_port: portOf.get(`${d.name}/${f.name}`)! };
        if (f.host && f.host !== 'localhost') fr.host = f.host;
        if (f.localPort !== undefined) fr.local_port = f.localPort;
        rec.forwards[f.name] = fr;
      }
    }
    devices[d.name] = rec;
  }
  for (const name of keptDevices) devices[name] = old.devices[name];
  const next = emptyFleet();
  for (const name of Object.keys(devices).sort(byName)) next.devices[name] = devices[name];

  const clients: FleetState['clients'] = {};
  for (const c of input.clients) {
    const jump = bareKey(c.jumpKey) ?? old.clients[c.name]?.jump_key;
    clients[c.name] = jump ? { jump_key: jump } : {};
  }
  for (const name of keptClients) clients[name] = old.clients[name];
  for (const name of Object.keys(clients).sort(byName)) next.clients[name] = clients[name];

  const dropped = [
    ...Object.keys(old.devices).filter((n) => !next.devices[n]),
    ...Object.keys(old.clients).filter((n) => !next.clients[n]),
  ];
  stampRelayState(old, next, dropped, input);
  const nextOwner = new Map<number, string>();
  for (const [name, rec] of Object.entries(next.devices))
    for (const { port } of recordPorts(name, rec)) nextOwner.set(port, name);
  const droppedPorts = new Set<number>();
  // Sessions end on the relay being written: what its own copy holds that the next state does not.
  const here = input.here ?? old;
  for (const [name, rec] of Object.entries(here.devices)) {
    for (const { port } of recordPorts(name, rec)) {
      const owner = nextOwner.get(port);
      const movedAway =
        input.hereRelay !== undefined && next.devices[name]?.relays?.includes(input.hereRelay) === false;
      if (!next.devices[name] || (owner !== undefined && owner !== name) || reissued.includes(name) || movedAway)
        droppedPorts.add(port);
    }
  }
  const retiring: Record<string, number[]> = {};
  for (const d of members) {
    const wanted = new Set(recordPorts(d.name, next.devices[d.name]).map((p) => p.port));
    const left = [...new Set(retiringOf.get(d.name))]
      .filter((p) => !wanted.has(p) && nextOwner.get(p) === undefined)
      .sort((a, b) => a - b);
    if (left.length) retiring[d.name] = left;
  }
  return {
    state: next,
    kept: [...keptDevices, ...keptClients].sort(byName),
    dropped: dropped.sort(byName),
    droppedPorts: [...droppedPorts].sort((a, b) => a - b),
    retiring,
  };
}

/**
 * The bookkeeping that lets several relays' copies be merged (fleet-merge.ts): removals remembered with
 * the serial that made them, each relay's host key (several relays only), and the serial raised when
 * anything changed — by every relay alike, as each plans from the same merged state.
 */
function stampRelayState(old: FleetState, next: FleetState, dropped: string[], input: FleetInput): void {
  const serial = (old.serial ?? 0) + 1;
  const removed = { ...(old.removed ?? {}) };
  for (const name of dropped) removed[name] = serial;
  for (const name of [...Object.keys(next.devices), ...Object.keys(next.clients)]) delete removed[name];
  if (Object.keys(removed).length) next.removed = removed;
  if ((input.relays ?? []).length > 1) {
    const keys: NonNullable<FleetState['relays']> = {};
    for (const r of input.relays!) {
      const key = input.relayHostKeys?.[r] ?? old.relays?.[r]?.host_key;
      if (key) keys[r] = { host_key: key };
    }
    next.relays = keys;
  }
  const same = serializeFleet({ ...next, serial: undefined }) === serializeFleet({ ...old, serial: undefined });
  if (old.serial || !same) next.serial = same ? old.serial : serial;
}

/** The next state only (see planFleetChanges). */
export function planFleet(old: FleetState, input: FleetInput): FleetState {
  return planFleetChanges(old, input).state;
}

export function serializeFleet(state: FleetState): string {
  const { version, serial, devices, clients, removed, relays } = state;
  const out = {
    version,
    ...(serial ? { serial } : {}),
    devices,
    clients,
    ...(removed && Object.keys(removed).length ? { removed } : {}),
    ...(relays && Object.keys(relays).length ? { relays } : {}),
  };
  return JSON.stringify(out, null, 2) + '\n';
}

export interface DeviceEntry extends DeviceRecord {
  name: string;
}

/** Devices sorted by name, for templates (authorized_keys, sshd Match block, client config). */
export function deviceEntries(state: FleetState): DeviceEntry[] {
  return Object.keys(state.devices)
    .sort()
    .map((name) => ({ name, ...state.devices[name] }));
}

export interface ForwardEntry {
  name: string;
  /** `<device>-<name>`: the client's Host alias. */
  alias: string;
  port: number;
  relay_port: number;
  host: string;
  local_port: number;
}

/** A device's forwards by name, with defaults filled in. */
export function forwardEntries(device: string, rec: DeviceRecord): ForwardEntry[] {
  return Object.keys(rec.forwards ?? {})
    .sort(byName)
    .map((name) => {
      const f = rec.forwards![name];
      return {
        name,
        alias: `${device}-${name}`,
        port: f.port,
        relay_port: f.relay_port,
        host: f.host ?? 'localhost',
        local_port: f.local_port ?? f.relay_port,
      };
    });
}

/** What the relay's templates need: one authorized_keys line per device key, and the sshd limits. */
/**
 * sshd's MaxStartups (start:rate:full: logins not yet authenticated before it drops new ones at random,
 * and before it drops them all) for a relay with `devices` devices. After the relay reboots, its devices
 * log in again within seconds of each other (each waits RestartSec plus a random 0-5 s); with sshd's
 * default 10:30:100 most of a big fleet is dropped and waits another round. A quarter of the fleet at
 * once is what a reboot brings (measured: bench --tunnels); rounded to tens so adding a device rarely
 * changes it. Never below sshd's default.
 */
export function maxStartups(devices: number): string {
  const start = Math.max(10, Math.ceil(devices / 4 / 10) * 10);
  return `${start}:30:${Math.max(100, 2 * start)}`;
}

export function relayTemplateFacts(state: FleetState, retiring: Record<string, number[]> = {}, relay?: string) {
  // With several relays, each holds the tunnels (and lets in the keys) of its own devices only.
  const devices = deviceEntries(state).filter((d) => !relay || !d.relays || d.relays.includes(relay));
  const ports = devices.flatMap((d) => recordPorts(d.name, d).map((p) => p.port));
  // A device key may listen on its own ports only (and on those its running tunnel still holds, see
  // FleetPlan.retiring). During a rotation the device has two keys.
  const listenPorts = (d: DeviceEntry) => [...recordPorts(d.name, d).map((p) => p.port), ...(retiring[d.name] ?? [])];
  const deviceKeys = devices.flatMap((d) => {
    const permitlisten = listenPorts(d)
      .map((p) => `permitlisten="localhost:${p}"`)
      .join(',');
    return [d.relay_key, d.next_relay_key]
      .filter((k): k is string => Boolean(k))
      .map((relay_key) => ({ name: d.name, port: d.port, relay_key, permitlisten }));
  });
  const clientKeys = Object.keys(state.clients)
    .sort()
    .map((name) => ({ name, jump_key: state.clients[name].jump_key }))
    .filter((c) => c.jump_key);
  // For sshd's Match block and the jump keys: every device port, or a sentinel when there are none
  // ("localhost:1", never a device port: sshd refuses a literal "none" in key options).
  const listen = ports.map((p) => `localhost:${p}`);
  const sshdListen = [...ports, ...Object.values(retiring).flat()].map((p) => `localhost:${p}`);
  return {
    relay_device_keys: deviceKeys,
    relay_client_keys: clientKeys,
    relay_permit: sshdListen.length ? sshdListen.join(' ') : 'none',
    relay_client_permitopen: (listen.length ? listen : ['localhost:1']).map((l) => `permitopen="${l}"`).join(','),
    relay_max_startups: maxStartups(devices.length),
  };
}
