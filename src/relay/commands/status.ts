// `relay-play status INVENTORY [--json] [-v]`: one connection to each relay, one check script (one round trip);
// then the devices themselves are asked about their tunnel service — only those that are down
// (directly: a down tunnel can't carry the question), or with -v every device, those that are up
// through their tunnel if they can't be reached directly. In parallel, with a short timeout.
import { Connections, loadInventory, noteLine, shFile, shScript, UnreachableError } from '../../engine/index.js';
import { prepareRelayInventory } from '../inventory.js';
import {
  deviceError,
  lastLogLine,
  parseProbe,
  statusScript,
  mergeRelayRows,
  statusRows,
  statusTable,
  type StatusRow,
} from '../status.js';
import { parseFleet, type FleetState } from '../fleet.js';
import { FLEET_STATE_FILE } from '../tunnels.js';
import { fleetTunnels, relayRouter } from '../route.js';

const DEVICE_TIMEOUT_MS = 8_000;

export const EXIT_DOWN = 3;
/** relay-play's directory on the relay for what it remembers between status runs (a tmpfs: gone at reboot). */
const RUN_DIR = '/run/relay-play';

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

export async function statusCommand(
  inventoryFile: string,
  opts: { json?: boolean; acceptNewHostKeys?: boolean; verbose?: number },
): Promise<number> {
  const inv = loadInventory(inventoryFile);
  prepareRelayInventory(inv);
  const relays = inv.groups.get('relay')!;
  const devices = inv.groups.get('devices') ?? [];
  const vars = (h: string) => inv.hosts.get(h)!.vars;
  const note = opts.verbose
    ? (host: string, text: string) => void process.stderr.write(noteLine(host, text) + '\n')
    : undefined;
  const connectOpts = { acceptNewHostKeys: Boolean(opts.acceptNewHostKeys), connectTimeoutMs: 5_000, note };
  const relayConns = new Connections(vars, { ...connectOpts, connectTimeoutMs: 10_000 });
  // On a terminal, passphrases first: the devices' questions below run under a short deadline.
  await relayConns.unlockKeys([...relays, ...devices]);
  let deviceConns: Connections | undefined;
  let rows: StatusRow[];
  let relayDown = false;
  try {
    // Every relay at once; with several, a relay that cannot be checked is said and the others answer.
    const perRelay = await Promise.all(
      relays.map(async (relay): Promise<{ relay: string; fleet?: FleetState; rows?: StatusRow[] }> => {
        try {
          return { relay, ...(await checkRelay(relayConns, relay, devices)) };
        } catch (e) {
          if (!(e instanceof UnreachableError)) throw e;
          process.stderr.write(`relay-play status: the relay ${relay}: ${e.message}\n`);
          return { relay };
        }
      }),
    );
    const reached = perRelay.filter((p) => p.rows);
    if (!reached.length) return 4;
    relayDown = reached.length < relays.length;
    rows = relays.length > 1 ? mergeRelayRows(perRelay) : reached[0].rows!;
    const fleet = reached[0].fleet!;
    // Down devices (and with -v all of them) that the inventory says how to reach: their own account.
    deviceConns = new Connections(
      vars,
      connectOpts,
      relayRouter(
        new Set(devices),
        vars,
        fleetTunnels(
          reached.map((p) => p.relay),
          (r) => relayConns.get(r),
          () => ({}),
          fleet,
        ),
      ),
    );
    // A device awaiting first contact has not booted yet: nothing to ask.
    const ask = rows.filter((r) => r.in_inventory && !r.awaiting_since && (!r.up || opts.verbose));
    // A NixOS device's first tunnel has the same unit name (the printed Nix says so).
    await Promise.all(ask.map((r) => askDevice(r, deviceConns!, 'relay-tunnel.service')));
  } finally {
    await deviceConns?.closeAll();
    await relayConns.closeAll();
  }

  if (opts.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else
    process.stdout.write(
      statusTable(rows, {
        color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
        service: Boolean(opts.verbose),
      }),
    );
  // A relay that could not be checked is news too: the same exit as a run that cannot reach a host.
  if (relayDown) return 4;
  return rows.every((r) => r.up) ? 0 : EXIT_DOWN;
}

/** One relay's check: its fleet state, and a row per device as that relay sees its tunnel. */
async function checkRelay(
  relayConns: Connections,
  relay: string,
  devices: string[],
): Promise<{ fleet: FleetState; rows: StatusRow[] }> {
  const conn = await relayConns.get(relay);
  const check = async (ports: number[]) => {
    const p = await conn.run(shScript(statusScript(), [FLEET_STATE_FILE, RUN_DIR, ...ports]), { become: true });
    if (p.code !== 0) throw new UnreachableError(relay, `the status check failed on the relay: ${p.stderr.trim()}`);
    return parseProbe(p.stdout);
  };
  // One round trip: the script reads the fleet state itself. Should it not find the device ports
  // this finds in it (a state file written differently), ask again with the ports.
  let probe = await check([]);
  let fleet: FleetState;
  try {
    fleet = parseFleet(probe.fleet);
  } catch (e) {
    throw new UnreachableError(relay, `cannot read ${FLEET_STATE_FILE} on the relay: ${(e as Error).message}`);
  }
  const ports = Object.values(fleet.devices)
    .map((d) => d.port)
    .sort((a, b) => a - b);
  if (ports.join() !== [...probe.ports].sort((a, b) => a - b).join()) probe = await check(ports);
  return { fleet, rows: statusRows(devices, fleet, probe) };
}

async function askDevice(r: StatusRow, conns: Connections, unit: string): Promise<void> {
  try {
    const out = await withTimeout(
      conns
        .get(r.name)
        .then((dev) => dev.run(shScript(shFile('relay/commands/status-device.sh'), [unit]), { become: true })),
      DEVICE_TIMEOUT_MS,
      r.name,
    );
    const state = /^state=(.*)$/m.exec(out.stdout)?.[1]?.trim() || 'unknown';
    const restarts = Number(/^restarts=(\d+)$/m.exec(out.stdout)?.[1] ?? NaN);
    r.service = {
      via: conns.via(r.name) ?? null,
      state,
      restarts: Number.isNaN(restarts) ? null : restarts,
      last_message: lastLogLine(out.stdout.replace(/^restarts=.*$/m, '')) ?? null,
    };
    if (!r.up) r.error = deviceError(unit, out.stdout.replace(/^restarts=.*$/m, ''));
  } catch (e) {
    if (!r.up) r.error = `${r.relay_check ?? 'down'}; ${r.name} itself is not reachable (${(e as Error).message})`;
    else
      r.service = {
        via: null,
        state: 'unknown',
        restarts: null,
        last_message: `not reachable: ${(e as Error).message}`,
      };
  }
}
