// relay_fleet (relay-play's own module, runs on the relay): read the recorded fleet state and the
// relay's host key in one round trip, decide ports and keys (relay/fleet.ts), record the new state
// atomically, and hand every device and client the facts its templates need.
import {
  boolArg,
  type BoolArg,
  contentDiff,
  type Module,
  shFile,
  shScript,
  toBool,
  writeFileStep,
} from '../../engine/index.js';
import { mergeFleets, type FleetCopy } from '../fleet-merge.js';
import { tunnelUnitName } from '../relays.js';
import {
  bareKey,
  type DeviceEntry,
  type FleetState,
  deviceEntries,
  forwardEntries,
  parseFleet,
  planFleetChanges,
  relayTemplateFacts,
  serializeFleet,
  type FleetInput,
  type ForwardInput,
} from '../fleet.js';

interface FleetArgs {
  devices: string[];
  clients: string[];
  hostvars: Record<string, Record<string, unknown>>;
  port_base: number | string;
  state_file: string;
  host_key: string;
  /** Drop recorded devices and clients missing from `devices`/`clients` (default: keep them). */
  prune?: BoolArg;
  /** Devices to take out of the fleet. */
  remove?: string[];
  /** Every relay of the inventory, in its order (default: this one alone). */
  relays?: string[];
  /** relays_per_device: how many relays each device tunnels to (default: all). */
  relays_per_device?: number | string;
}

/** What relay_fleet_read left in a relay's facts: its copy of the fleet state and its host key. */
export interface RelayCopy {
  state: string;
  host_key: string;
}

const decodeSlurp = (v: unknown): string | undefined => {
  const content = (v as { content?: unknown } | undefined)?.content;
  return typeof content === 'string' ? Buffer.from(content, 'base64').toString('utf8') : undefined;
};
const publicKeyOf = (v: unknown): string | undefined => {
  const k = (v as { public_key?: unknown } | undefined)?.public_key;
  return typeof k === 'string' && k ? k : undefined;
};

/**
 * The relay ports a device's installed tunnel unit holds (`-R localhost:PORT:...`), from the slurp of
 * the unit in the enroll play: [] when it has none, undefined when the device was not read this run.
 */
export function unitPorts(v: unknown): number[] | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const text = decodeSlurp(v);
  // Skipped: no unit installed (tasks/keys.yaml reads it only if it exists).
  if (text === undefined) return (v as { skipped?: boolean }).skipped ? [] : undefined;
  return [...text.matchAll(/-R localhost:(\d+):/g)].map((m) => Number(m[1]));
}

/** The `forwards` host var (checked by apply's inventory checks) as planner input. */
export function forwardsInput(v: unknown): ForwardInput[] {
  if (!Array.isArray(v)) return [];
  return v.map((f: Record<string, unknown>) => ({
    name: String(f.name),
    port: Number(f.port),
    ...(f.relay_port !== undefined ? { relayPort: Number(f.relay_port) } : {}),
    ...(f.host !== undefined ? { host: String(f.host) } : {}),
    ...(f.local_port !== undefined ? { localPort: Number(f.local_port) } : {}),
  }));
}

/** Facts (keyed by host) and the planner's input, from the module's arguments: shared with `relay-play nixos`. */
export function fleetInput(args: FleetArgs): FleetInput {
  const hv = (h: string) => args.hostvars[h] ?? {};
  return {
    relays: args.relays ?? [],
    ...(args.relays_per_device !== undefined && args.relays_per_device !== null && args.relays_per_device !== ''
      ? { perDevice: Number(args.relays_per_device) }
      : {}),
    portBase: Number(args.port_base),
    prune: toBool(args.prune, false),
    remove: args.remove ?? [],
    devices: args.devices.map((name) => ({
      name,
      explicitPort: hv(name).tunnel_port === undefined ? undefined : Number(hv(name).tunnel_port),
      // Read from the device this run, or (NixOS devices, which relay-play never changes) pasted into the inventory.
      relayKey: publicKeyOf(hv(name).relay_key) ?? (hv(name).relay_public_key as string | undefined),
      nextRelayKey: publicKeyOf(hv(name).relay_key_next),
      hostKey: decodeSlurp(hv(name).device_host_key) ?? (hv(name).ssh_host_key as string | undefined),
      loginUser: hv(name).login_user as string | undefined,
      forwards: forwardsInput(hv(name).forwards),
      currentPorts: unitPorts(hv(name).tunnel_unit_now),
      issuedAt: hv(name).relay_issued_at as string | undefined,
    })),
    clients: args.clients.map((name) => ({ name, jumpKey: publicKeyOf(hv(name).jump_key) })),
  };
}

export const relay_fleet: Module<FleetArgs, 'state'> = {
  schema: {
    type: 'object',
    properties: {
      devices: { type: 'array', items: { type: 'string' } },
      clients: { type: 'array', items: { type: 'string' } },
      hostvars: { type: 'object' },
      port_base: { type: ['integer', 'string'] },
      state_file: { type: 'string' },
      host_key: { type: 'string' },
      prune: boolArg,
      remove: { type: 'array', items: { type: 'string' } },
      relays: { type: 'array', items: { type: 'string' } },
      relays_per_device: { type: ['integer', 'string', 'null'] },
    },
    required: ['devices', 'clients', 'hostvars', 'port_base', 'state_file', 'host_key'],
    additionalProperties: false,
  },
  providesFacts: [
    'tunnel_port',
    'tunnel_forwards',
    'tunnel_host_key',
    'tunnel_retiring',
    'tunnel_relays',
    'relay_host_key',
    'relay_endpoints',
    'relay_devices',
    'relay_forwards',
    'relay_device_keys',
    'relay_client_keys',
    'relay_permit',
    'relay_max_startups',
    'relay_client_permitopen',
    'relay_dropped_ports',
    'relay_kept',
    'relay_dropped',
    'relay_issued',
  ],

  reads: (args) => ({
    state: { command: shScript(shFile('relay/modules/relay_fleet.sh'), [args.host_key, args.state_file]) },
  }),

  plan(args, ctx, read) {
    const r = read.state;
    if (r.code !== 0)
      return {
        changed: false,
        steps: [],
        failed: `cannot read the relay's host key ${args.host_key}: ${r.stderr.trim()}`,
      };
    const [hostKeyText, stateText = ''] = r.stdout.split('---relay-play---\n');
    const relayHostKey = bareKey(hostKeyText);
    if (!relayHostKey) return { changed: false, steps: [], failed: `no ed25519 host key in ${args.host_key}` };

    let before;
    let plan;
    let copies;
    try {
      before = parseFleet(stateText);
      copies = readCopies(args, ctx.host, before, relayHostKey);
      const input = fleetInput(args);
      plan = planFleetChanges(mergeFleets(copies.copies), {
        ...input,
        relayHostKeys: copies.hostKeys,
        here: before,
        ...(input.relays!.length > 1 ? { hereRelay: ctx.host } : {}),
      });
    } catch (e) {
      return { changed: false, steps: [], failed: `${args.state_file}: ${(e as Error).message}` };
    }
    const next = plan.state;
    const oldText = stateText.trim() ? serializeFleet(before) : '';
    const newText = serializeFleet(next);
    const changed = oldText !== newText;

    const devices = deviceEntries(next);
    const facts: Record<string, Record<string, unknown>> = {
      [ctx.host]: {
        relay_host_key: relayHostKey,
        ...relayTemplateFacts(next, plan.retiring, (args.relays ?? []).length > 1 ? ctx.host : undefined),
        relay_dropped_ports: plan.droppedPorts,
        relay_kept: plan.kept,
        relay_dropped: plan.dropped,
        // Devices still using the relay key `relay-play enroll` made (name → when): apply rotates them once reached.
        relay_issued: Object.fromEntries(devices.filter((d) => d.issued).map((d) => [d.name, d.issued!.at])),
      },
    };
    // tunnel_host_key: the key pinned for the device, checked when it is reached through its tunnel.
    // tunnel_retiring: ports its running tunnel holds until it is changed (a way in if the change is rolled back).
    // Every relay sets the same device and client facts: each plans from the same merged state.
    const endpoints = relayEndpoints(args, ctx.host, next, relayHostKey);
    for (const d of devices) {
      const relays = tunnelRelays(d, endpoints, args.hostvars[d.name]);
      facts[d.name] = {
        tunnel_port: d.port,
        tunnel_forwards: forwardEntries(d.name, d),
        relay_host_key: relays[0]?.host_key ?? relayHostKey,
        tunnel_relays: relays,
        tunnel_host_key: d.host_key,
        tunnel_retiring: plan.retiring[d.name] ?? [],
      };
    }
    // A forward is served through the device's first relay (with one relay, the relay).
    const forwards = devices.flatMap((d) => {
      const via = tunnelRelays(d, endpoints)[0];
      const several = endpoints.length > 1;
      return forwardEntries(d.name, d).map((f) => ({
        ...f,
        relay_address: via?.address,
        relay_ssh_port: via?.ssh_port,
        relay_key_alias: several && via ? `relay-play-${via.name}` : 'relay-play-relay',
      }));
    });
    for (const c of args.clients)
      facts[c] = {
        relay_host_key: endpoints[0]?.host_key ?? relayHostKey,
        // Every relay, even a lone one: its pin (relay-play-<relay>) then outlives the config that names
        // it, so going from two relays to one never leaves an `ssh rpi1` without the key it checks.
        relay_endpoints: endpoints,
        relay_devices: devices
          .filter((d) => d.host_key)
          .map((d) => ({ ...d, relay_aliases: tunnelRelays(d, endpoints).map((r) => `relay-play-${r.name}`) })),
        relay_forwards: forwards,
      };

    const notes = [
      ...(plan.kept.length ? [`kept (recorded on the relay, not in the inventory): ${plan.kept.join(', ')}`] : []),
      ...(plan.dropped.length ? [`removed: ${plan.dropped.join(', ')}`] : []),
    ];
    return {
      changed,
      steps: changed ? [writeFileStep(args.state_file, newText, { owner: 'root', group: 'root', mode: '0644' })] : [],
      diff: changed ? [contentDiff(args.state_file, oldText, newText)] : [],
      result: {
        ports: Object.fromEntries(devices.map((d) => [d.name, d.port])),
        kept: plan.kept,
        dropped: plan.dropped,
      },
      ...(notes.length ? { msg: notes.join('; ') } : {}),
      facts,
    };
  },
};

/**
 * The copies of the fleet state: this relay's, and those relay_fleet_read left in the other relays' facts
 * this run (a relay that was not reached has none). Each relay's host key comes with its copy.
 */
function readCopies(args: FleetArgs, me: string, mine: FleetState, myKey: string) {
  const copies: FleetCopy[] = [];
  const hostKeys: Record<string, string> = {};
  for (const relay of args.relays?.length ? args.relays : [me]) {
    if (relay === me) {
      copies.push({ relay, state: mine });
      hostKeys[relay] = myKey;
      continue;
    }
    const copy = args.hostvars[relay]?.relay_copy as RelayCopy | undefined;
    const key = bareKey(copy?.host_key);
    if (!copy || !key) continue;
    copies.push({ relay, state: parseFleet(copy.state) });
    hostKeys[relay] = key;
  }
  return { copies, hostKeys };
}

/** Where a device's or a client's ssh finds each relay, with its host key (this run's, else the recorded one). */
export interface RelayEndpoint {
  name: string;
  address: string;
  ssh_port: number;
  host_key?: string;
}

function relayEndpoints(args: FleetArgs, me: string, next: FleetState, myKey: string): RelayEndpoint[] {
  const names = args.relays?.length ? args.relays : [me];
  return names.map((name) => {
    const hv = args.hostvars[name] ?? {};
    const key =
      name === me ? myKey : (next.relays?.[name]?.host_key ?? bareKey((hv.relay_copy as RelayCopy)?.host_key));
    return {
      name,
      address: String(hv.relay_address),
      ssh_port: Number(hv.relay_ssh_port),
      ...(key ? { host_key: key } : {}),
    };
  });
}

/**
 * A device's tunnels, one per relay it holds a tunnel to (inventory order): the relay, and its unit on the
 * device (relays.ts) with the suffix that names that unit's files (pinned key, rollback).
 */
export function tunnelRelays(d: DeviceEntry, endpoints: RelayEndpoint[], own: Record<string, unknown> = {}) {
  const mine = d.relays ?? endpoints.map((e) => e.name);
  return endpoints
    .filter((e) => mine.includes(e.name))
    .map((e, i) => {
      const unit = tunnelUnitName(e.name, d.first_relay);
      // The device's own relay_address / relay_ssh_port (the inventory's, or its first relay's) for its first relay.
      const where =
        i === 0 && own.relay_address !== undefined
          ? { address: String(own.relay_address), ssh_port: Number(own.relay_ssh_port ?? e.ssh_port) }
          : {};
      return { ...e, ...where, unit, suffix: unit === 'relay-tunnel.service' ? '' : `-${e.name}` };
    });
}
