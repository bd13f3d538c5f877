// `relay-play status INVENTORY [--json]`: one connection to the relay, one batched check script;
// then, only for devices that are down, their tunnel service's last error, asked of the devices
// directly, in parallel, with a short timeout.
import { shScript } from '../connection/quote.js';
import type { Connection } from '../connection/types.js';
import { UnreachableError } from '../errors.js';
import { loadInventory } from '../inventory/index.js';
import { parseFleet } from '../relay/fleet.js';
import { isNixos, prepareRelayInventory } from '../relay/inventory.js';
import { deviceError, parseProbe, STATUS_SCRIPT, statusRows, statusTable, type StatusRow } from '../relay/status.js';
import { openConnection } from '../runner/connect.js';

const STATE_FILE = '/var/lib/relay-play/fleet.json';
const DEVICE_TIMEOUT_MS = 8_000;
const DEVICE_SCRIPT = `printf 'state=%s\\n' "$(systemctl is-active -- "$1" 2>/dev/null)"; journalctl -u "$1" -n 30 --no-pager -o cat 2>/dev/null; exit 0`;

export const EXIT_DOWN = 3;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms)))]).finally(() => clearTimeout(timer));
}

export async function statusCommand(inventoryFile: string, opts: { json?: boolean; acceptNewHostKeys?: boolean }): Promise<number> {
  const inv = loadInventory(inventoryFile);
  prepareRelayInventory(inv);
  const relay = inv.groups.get('relay')![0];
  const devices = inv.groups.get('devices') ?? [];
  const vars = (h: string) => inv.hosts.get(h)!.vars;
  const accept = Boolean(opts.acceptNewHostKeys);

  let conn: Connection;
  try {
    conn = await openConnection(relay, vars(relay), { acceptNewHostKeys: accept, connectTimeoutMs: 10_000 });
  } catch (e) {
    if (e instanceof UnreachableError) {
      process.stderr.write(`relay-play status: the relay ${relay} is unreachable: ${e.message}\n`);
      return 4;
    }
    throw e;
  }
  let rows: StatusRow[];
  try {
    const f = await conn.run(shScript('if [ -f "$1" ]; then cat -- "$1"; fi', [STATE_FILE]), { become: true });
    if (f.code !== 0) throw new UnreachableError(relay, `cannot read ${STATE_FILE}: ${f.stderr.trim()}`);
    const fleet = parseFleet(f.stdout);
    const ports = Object.values(fleet.devices).map((d) => d.port);
    const p = await conn.run(shScript(STATUS_SCRIPT, ports), { become: true });
    if (p.code !== 0) throw new UnreachableError(relay, `the status check failed on the relay: ${p.stderr.trim()}`);
    rows = statusRows(devices, fleet, parseProbe(p.stdout));
  } catch (e) {
    if (e instanceof UnreachableError) {
      process.stderr.write(`relay-play status: ${e.message}\n`);
      return 4;
    }
    throw e;
  } finally {
    await conn.close();
  }

  // Down devices that the inventory says how to reach: why, from their own journal.
  await Promise.all(
    rows
      .filter((r) => !r.up && r.in_inventory)
      .map(async (r) => {
        const unit = isNixos(vars(r.name)) ? 'reverse-tunnel.service' : 'relay-tunnel.service';
        let dev: Connection | undefined;
        try {
          const ask = (async () => {
            dev = await openConnection(r.name, vars(r.name), { acceptNewHostKeys: accept, connectTimeoutMs: 5_000 });
            return dev.run(shScript(DEVICE_SCRIPT, [unit]), { become: true });
          })();
          const out = await withTimeout(ask, DEVICE_TIMEOUT_MS, r.name);
          r.error = deviceError(unit, out.stdout);
        } catch (e) {
          r.error = `${r.relay_check ?? 'down'}; ${r.name} itself is not reachable (${(e as Error).message})`;
        } finally {
          await dev?.close().catch(() => undefined);
        }
      }),
  );

  if (opts.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else process.stdout.write(statusTable(rows, { color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR }));
  return rows.every((r) => r.up) ? 0 : EXIT_DOWN;
}
