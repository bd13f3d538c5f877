// `relay-play nixos INVENTORY HOST`, and the Nix that `apply` prints for hosts with `os: nixos`.
import {
  InputError,
  type Inventory,
  loadInventory,
  openConnection,
  planOn,
  type RunState,
  UnreachableError,
} from '../../engine/index.js';
import { relay_fleet } from '../modules/relay_fleet.js';
import { deviceNix, relayNix } from '../nixos.js';
import { NIXOS_GROUP, prepareRelayInventory } from '../inventory.js';

type Vars = Record<string, unknown>;

/** The Nix of one host, from its vars merged with relay_fleet's facts (undefined: not a relay or device). */
export function hostNix(inv: Inventory, host: string, vars: Vars): string | undefined {
  const relay = inv.groups.get('relay')![0];
  if (host === relay) return relayNix(host, vars);
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

/** `relay-play nixos`: read the fleet on the relay (changing nothing) and print HOST's Nix. */
export async function nixosCommand(
  inventoryFile: string,
  host: string,
  opts: { acceptNewHostKeys?: boolean },
): Promise<number> {
  const inv = loadInventory(inventoryFile);
  prepareRelayInventory(inv);
  const relay = inv.groups.get('relay')![0];
  if (!inv.hosts.has(host) || (host !== relay && !(inv.groups.get('devices') ?? []).includes(host))) {
    throw new InputError(
      `${host} is not the relay or a device of ${inventoryFile}`,
      undefined,
      `relay-play nixos prints the configuration of the relay (${relay}) or of a device`,
    );
  }
  const hostVars = Object.fromEntries([...inv.hosts].map(([n, h]) => [n, h.vars]));
  const relayVars = hostVars[relay];
  let conn;
  try {
    conn = await openConnection(relay, relayVars, {
      acceptNewHostKeys: Boolean(opts.acceptNewHostKeys),
      connectTimeoutMs: 10_000,
    });
  } catch (e) {
    if (e instanceof UnreachableError) {
      process.stderr.write(`relay-play nixos: the relay ${relay} is unreachable: ${e.message}\n`);
      return 4;
    }
    throw e;
  }
  try {
    const plan = await planOn(
      conn,
      relay_fleet,
      {
        devices: inv.groups.get('devices') ?? [],
        clients: inv.groups.get('clients') ?? [],
        hostvars: hostVars,
        port_base: Number(relayVars.tunnel_port_base),
        state_file: '/var/lib/relay-play/fleet.json',
        host_key: '/etc/ssh/ssh_host_ed25519_key.pub',
      },
      { become: true },
    );
    if (plan.failed) {
      process.stderr.write(`relay-play nixos: ${plan.failed}\n`);
      return 2;
    }
    process.stdout.write(hostNix(inv, host, { ...hostVars[host], ...(plan.facts?.[host] ?? {}) })!);
    return 0;
  } finally {
    await conn.close();
  }
}
