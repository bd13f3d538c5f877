// `relay-play nixos INVENTORY HOST`, and the Nix that `apply` prints for hosts with `os: nixos`.
import {
  Connections,
  InputError,
  type Inventory,
  loadInventory,
  planOn,
  type RunState,
  UnreachableError,
} from '../../engine/index.js';
import { relay_fleet } from '../modules/relay_fleet.js';
import { relay_fleet_read } from '../modules/relay_fleet_read.js';
import { deviceNix, relayNix } from '../nixos.js';
import { NIXOS_GROUP, prepareRelayInventory } from '../inventory.js';

type Vars = Record<string, unknown>;

/** The Nix of one host, from its vars merged with relay_fleet's facts (undefined: not a relay or device). */
export function hostNix(inv: Inventory, host: string, vars: Vars): string | undefined {
  if ((inv.groups.get('relay') ?? []).includes(host)) return relayNix(host, vars);
  if ((inv.groups.get('devices') ?? []).includes(host)) {
    return deviceNix(host, vars, { missingKey: !vars.relay_public_key, missingHostKey: !vars.ssh_host_key });
  }
  return undefined;
}

/** After apply: the Nix of every NixOS relay or device, each under a heading; '' when there are none. */
export function nixosSections(state: RunState, inv: Inventory, inventoryFile: string): string {
  const out: string[] = [];
  for (const host of inv.groups.get(NIXOS_GROUP) ?? []) {
    const vars = state.hostVars(host);
    const heading = `\n# ---- NixOS host ${host}: relay-play changed nothing there; add this to its configuration (also: relay-play nixos ${inventoryFile} ${host})\n`;
    if (vars.tunnel_port === undefined && vars.relay_device_keys === undefined) {
      out.push(`${heading}# (not available: the relay's fleet state could not be read in this run)\n`);
      continue;
    }
    const nix = hostNix(inv, host, vars);
    if (nix) out.push(heading + nix);
  }
  return out.join('');
}

const STATE_FILE = '/var/lib/relay-play/fleet.json';
const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key.pub';

/**
 * `relay-play nixos`: read the fleet on the relays (changing nothing) and print HOST's Nix. With several
 * relays, every relay's copy of the fleet state is read and merged as apply does; a relay's Nix is planned
 * on that relay (its own devices' keys), a device's on the first relay that answers. A relay that cannot be
 * read is named and the exit is 4, after the Nix when it could still be made.
 */
export async function nixosCommand(
  inventoryFile: string,
  host: string,
  opts: { acceptNewHostKeys?: boolean },
): Promise<number> {
  const inv = loadInventory(inventoryFile);
  prepareRelayInventory(inv);
  const relays = inv.groups.get('relay')!;
  if (!inv.hosts.has(host) || (!relays.includes(host) && !(inv.groups.get('devices') ?? []).includes(host))) {
    throw new InputError(
      `${host} is not ${relays.length > 1 ? 'a relay' : 'the relay'} or a device of ${inventoryFile}`,
      undefined,
      `relay-play nixos prints the configuration of ${relays.length > 1 ? 'a relay' : 'the relay'} (${relays.join(', ')}) or of a device`,
    );
  }
  const hostVars: Record<string, Vars> = Object.fromEntries([...inv.hosts].map(([n, h]) => [n, { ...h.vars }]));
  const conns = new Connections((h) => hostVars[h], {
    acceptNewHostKeys: Boolean(opts.acceptNewHostKeys),
    connectTimeoutMs: 10_000,
  });
  await conns.unlockKeys(relays);
  const down: string[] = [];
  try {
    // Every relay at once: its copy of the fleet state (and host key) for the merge, as apply reads them.
    const reached = await Promise.all(
      relays.map(async (relay) => {
        try {
          const conn = await conns.get(relay);
          if (relays.length > 1) {
            const read = await planOn(
              conn,
              relay_fleet_read,
              { state_file: STATE_FILE, host_key: HOST_KEY },
              { become: true },
            );
            if (read.failed) {
              process.stderr.write(`relay-play nixos: the relay ${relay}: ${read.failed}\n`);
              down.push(relay);
              return undefined;
            }
            hostVars[relay].relay_copy = read.facts?.[relay]?.relay_copy;
          }
          return conn;
        } catch (e) {
          if (!(e instanceof UnreachableError)) throw e;
          process.stderr.write(`relay-play nixos: the relay ${relay} is unreachable: ${e.message}\n`);
          down.push(relay);
          return undefined;
        }
      }),
    );
    // A relay's own facts come from planning on it; a device's are the same on every relay.
    const on = relays.includes(host) ? relays.indexOf(host) : reached.findIndex(Boolean);
    const conn = reached[on];
    if (!conn) return 4;
    const relay = relays[on];
    const plan = await planOn(
      conn,
      relay_fleet,
      {
        devices: inv.groups.get('devices') ?? [],
        clients: inv.groups.get('clients') ?? [],
        hostvars: hostVars,
        port_base: Number(hostVars[relay].tunnel_port_base),
        state_file: STATE_FILE,
        host_key: HOST_KEY,
        relays,
        relays_per_device: (hostVars[relay].relays_per_device as number | string | undefined) ?? '',
      },
      { become: true },
    );
    if (plan.failed) {
      process.stderr.write(`relay-play nixos: ${plan.failed}\n`);
      return 2;
    }
    const own = { ...hostVars[host] };
    delete own.relay_copy;
    process.stdout.write(hostNix(inv, host, { ...own, ...(plan.facts?.[host] ?? {}) })!);
    return down.length ? 4 : 0;
  } finally {
    await conns.closeAll();
  }
}
