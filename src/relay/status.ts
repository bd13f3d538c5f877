// `relay-play status`: is each device's tunnel up? Decided on the relay: the device's port is
// listening AND an SSH handshake through it presents the device's pinned host key. Pure parts here:
// the one batched script the relay runs, parsing its output, the rows, and the table.
import { shFile } from '../engine/index.js';
import { bareKey, type FleetState } from './fleet.js';
import { parseEtimes, parseSs, sessionPids, type Listener } from './sessions.js';

/** The one script the relay runs for a status (status.sh beside this file: what it prints, and how). */
export const statusScript = (): string => shFile('relay/status.sh');

export interface RelayProbe {
  /** The fleet state file as the script printed it ("" when there is none). */
  fleet: string;
  /** The device ports the script found in it (and looked at). */
  ports: number[];
  scanAvailable: boolean;
  listeners: Listener[];
  etimes: Map<number, number>;
  /** port → the ed25519 host key seen through it ("ssh-ed25519 AAAA"), if any. */
  keys: Map<number, string>;
  /** The tunnel watcher's record, by device; undefined when the relay has none (no watcher). */
  watch?: Map<string, WatchRecord>;
}

/** What relay-play-watch keeps of a device (/var/lib/relay-play/watch/state on the relay): times in Unix seconds. */
export interface WatchRecord {
  port: number;
  /** "never": the watcher has not seen its tunnel up since it started watching it. */
  state: 'up' | 'down' | 'never';
  /** When the state began (for "never": when the watcher started watching it). */
  since: number;
  /** When the watcher last saw the tunnel up; 0 never. */
  lastSeen: number;
  changes: number;
}

/** The watcher's state file: "device port state since last_seen changes announced" a line; "#" lines are comments. */
export function parseWatchState(text: string): Map<string, WatchRecord> {
  const out = new Map<string, WatchRecord>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (line.startsWith('#') || f.length !== 7 || !['up', 'down', 'never'].includes(f[2])) continue;
    const [port, since, lastSeen, changes] = [f[1], f[3], f[4], f[5]].map(Number);
    if (![port, since, lastSeen, changes].every(Number.isInteger)) continue;
    out.set(f[0], { port, state: f[2] as WatchRecord['state'], since, lastSeen, changes });
  }
  return out;
}

export function parseProbe(stdout: string): RelayProbe {
  const probe: RelayProbe = {
    fleet: '',
    ports: [],
    scanAvailable: true,
    listeners: [],
    etimes: new Map(),
    keys: new Map(),
  };
  const sections = stdout.split(/^---/m).slice(1);
  for (const sec of sections) {
    const nl = sec.indexOf('\n');
    const head = nl < 0 ? sec : sec.slice(0, nl);
    const body = nl < 0 ? '' : sec.slice(nl + 1);
    if (head === 'fleet') probe.fleet = body;
    else if (head === 'watch') probe.watch = body.trim() ? parseWatchState(body) : undefined;
    else if (head === 'ports') probe.ports = body.split('\n').filter(Boolean).map(Number);
    else if (head.startsWith('scan ')) probe.scanAvailable = head.slice(5).trim() === 'yes';
    else if (head === 'ss') probe.listeners = parseSs(body);
    else if (head === 'ps') probe.etimes = parseEtimes(body);
    else if (head.startsWith('key ')) {
      const port = Number(head.slice(4));
      for (const line of body.split('\n')) {
        // "[127.0.0.1]:22221 ssh-ed25519 AAAA..." (comments "# ..." from ssh-keyscan -v are skipped)
        if (line.startsWith('#')) continue;
        const k = bareKey(line.split(/\s+/).slice(1).join(' '));
        if (k) probe.keys.set(port, k);
      }
    }
  }
  return probe;
}

export interface StatusRow {
  name: string;
  port: number | null;
  up: boolean;
  /** When the tunnel came up (ISO time), where known. */
  since: string | null;
  /** Why it is down: the device's tunnel service's last error if the device could be asked, else what the relay saw. */
  error: string | null;
  up_seconds: number | null;
  /** What the relay saw, for a device that is down. */
  relay_check: string | null;
  in_inventory: boolean;
  forwards: { name: string; relay_port: number; listening: boolean }[];
  /** Enrolled with `relay-play enroll` and not reached by an apply yet: since when (ISO), else null. */
  awaiting_since?: string | null;
  /** The device's own account of its tunnel service, when it was asked (down devices; all with -v). */
  service?: { via: string | null; state: string; restarts: number | null; last_message: string | null };
  /** When the relay's tunnel watcher last saw the tunnel up (ISO); null: never, or no watcher record. */
  last_seen?: string | null;
  /**
   * The watcher's record: its state ("never": not seen up since it started watching the device), since
   * when (ISO), how many times the tunnel went up or down. null when the relay has no record of the device.
   */
  watch?: { state: 'up' | 'down' | 'never'; since: string; changes: number } | null;
  /** With several relays: the tunnel on each relay that holds one for the device. */
  relays?: Record<string, 'up' | 'down' | 'unreachable'>;
}

const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

const listening = (probe: RelayProbe, port: number) =>
  probe.listeners.some((l) => l.port === port && ['127.0.0.1', '::1'].includes(l.address));

/** One row per device: the inventory's in inventory order, then devices recorded on the relay only. */
export function statusRows(
  inventoryDevices: string[],
  fleet: FleetState,
  probe: RelayProbe,
  now: Date = new Date(),
): StatusRow[] {
  const names = [
    ...inventoryDevices,
    ...Object.keys(fleet.devices)
      .filter((n) => !inventoryDevices.includes(n))
      .sort(),
  ];
  return names.map((name) => {
    const rec = fleet.devices[name];
    const in_inventory = inventoryDevices.includes(name);
    // Keys in this order: name, port, up, since, error first (what --json promises).
    if (!rec)
      return {
        name,
        port: null,
        up: false,
        since: null,
        error: 'not enrolled on the relay: run relay-play apply',
        up_seconds: null,
        relay_check: 'not in the fleet state',
        in_inventory,
        forwards: [],
        last_seen: null,
        watch: null,
      };
    const forwards = Object.entries(rec.forwards ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([fw, f]) => ({ name: fw, relay_port: f.relay_port, listening: listening(probe, f.relay_port) }));
    const seen = probe.keys.get(rec.port);
    let check: string | null = null;
    if (!listening(probe, rec.port)) check = `relay port ${rec.port} is not listening (no tunnel)`;
    else if (!probe.scanAvailable) check = 'ssh-keyscan is not installed on the relay: cannot check the host key';
    else if (!rec.host_key) check = `no host key recorded for ${name}: cannot check who answers on port ${rec.port}`;
    else if (!seen) check = `relay port ${rec.port} is listening but no SSH server answers through it`;
    else if (seen !== bareKey(rec.host_key))
      check = `the host key seen through relay port ${rec.port} is not ${name}'s`;
    const up = check === null;
    // Enrolled with `relay-play enroll` and never reached by an apply since: not broken, just not booted yet.
    if (!up && rec.issued)
      check = `awaiting first contact since ${rec.issued.at} (enrolled with relay-play enroll; ${check})`;
    const pid = up ? sessionPids(probe.listeners, rec.port)[0] : undefined;
    const secs = pid !== undefined ? probe.etimes.get(pid) : undefined;
    const w = probe.watch?.get(name);
    return {
      name,
      port: rec.port,
      up,
      since: secs !== undefined ? new Date(now.getTime() - secs * 1000).toISOString() : null,
      error: check,
      up_seconds: secs ?? null,
      relay_check: check,
      in_inventory,
      forwards,
      awaiting_since: !up && rec.issued ? rec.issued.at : null,
      last_seen: w && w.lastSeen > 0 ? iso(w.lastSeen) : null,
      watch: w ? { state: w.state, since: iso(w.since), changes: w.changes } : null,
    };
  });
}

/**
 * Several relays: one row per device from each reachable relay's rows. A device is up when its tunnel is up
 * on any of its relays (the row of the first such relay); `relays` says how it is on each relay that holds
 * one of its tunnels, a relay that could not be checked being "unreachable".
 */
export function mergeRelayRows(perRelay: { relay: string; rows?: StatusRow[]; fleet?: FleetState }[]): StatusRow[] {
  const checked = perRelay.filter((p) => p.rows);
  if (!checked.length) return [];
  const names = [...new Set(checked.flatMap((p) => p.rows!.map((r) => r.name)))];
  return names.map((name) => {
    const holds = (relay: string) =>
      checked.some((p) => {
        const rec = p.fleet?.devices[name];
        return rec ? !rec.relays || rec.relays.includes(relay) : false;
      }) || !checked.some((p) => p.fleet?.devices[name]);
    const rows = checked
      .filter((p) => holds(p.relay))
      .map((p) => ({ relay: p.relay, row: p.rows!.find((r) => r.name === name)! }))
      .filter((x) => x.row);
    const best = rows.find((x) => x.row.up) ?? rows[0] ?? { row: checked[0].rows!.find((r) => r.name === name)! };
    const relays: Record<string, 'up' | 'down' | 'unreachable'> = {};
    for (const p of perRelay)
      if (holds(p.relay))
        relays[p.relay] = !p.rows ? 'unreachable' : rows.find((x) => x.relay === p.relay)?.row.up ? 'up' : 'down';
    return { ...best.row, relays };
  });
}

/** The LAST SEEN cell of a down device: how long ago the watcher last saw it up, or that it never did. */
export function lastSeenCell(r: StatusRow, now: Date = new Date()): string {
  if (r.up || !r.watch) return '-';
  if (!r.last_seen) return 'never';
  const secs = Math.max(0, Math.round((now.getTime() - Date.parse(r.last_seen)) / 1000));
  return `${humanDuration(secs)} ago`;
}

const NOISE = /^(Started |Stopped |Stopping |Starting |Scheduled restart|Deactivated |Consumed |[\w.@-]+\.service: )/;

/** The last line of a unit's journal (oldest first) that says something: systemd's own lines are noise. */
export function lastLogLine(journal: string): string | undefined {
  const log = journal.split('\n').filter((l) => !l.startsWith('state=') && l.trim());
  return [...log]
    .reverse()
    .find((l) => !NOISE.test(l.trim()))
    ?.trim();
}

/** The device's side: `state=<systemctl is-active>` then journal lines (oldest first) → one message. */
export function deviceError(unit: string, output: string): string {
  const state = /^state=(.*)$/m.exec(output)?.[1]?.trim() || 'unknown';
  const last = lastLogLine(output);
  if (state !== 'active' && state !== 'activating')
    return `${unit} is ${state}${last ? `; its last message: ${last}` : ''}`;
  return last ?? `${unit} is ${state} and has logged nothing`;
}

export function humanDuration(secs: number): string {
  const d = Math.floor(secs / 86400);
  const h = Math.floor((secs % 86400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** The table: aligned columns; colours only when asked (a terminal). */
export function statusTable(rows: StatusRow[], opts: { color: boolean; service?: boolean; now?: Date }): string {
  const paint = (code: string, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  // LAST SEEN: when a device is down and the relay's tunnel watcher has a record to tell.
  const seen = rows.some((r) => !r.up && r.watch);
  const several = rows.some((r) => r.relays && Object.keys(r.relays).length > 1);
  const head = [
    'DEVICE',
    'PORT',
    'TUNNEL',
    ...(several ? ['RELAYS'] : []),
    'UP FOR',
    ...(seen ? ['LAST SEEN'] : []),
    ...(opts.service ? ['REACHED', 'RESTARTS'] : []),
    'ERROR',
  ];
  const cells = rows.map((r) => [
    r.in_inventory ? r.name : `${r.name} (not in inventory)`,
    r.port === null
      ? '-'
      : String(r.port) + (r.forwards.length ? ` +${r.forwards.map((f) => f.relay_port).join(',')}` : ''),
    r.up ? 'up' : 'down',
    ...(several
      ? [
          Object.entries(r.relays ?? {})
            .map(([relay, st]) => `${relay}:${st}`)
            .join(' ') || '-',
        ]
      : []),
    r.up_seconds !== null ? humanDuration(r.up_seconds) : '-',
    ...(seen ? [lastSeenCell(r, opts.now)] : []),
    ...(opts.service ? [r.service?.via ?? '-', r.service?.restarts != null ? String(r.service.restarts) : '-'] : []),
    r.error ?? (opts.service && r.service?.last_message ? r.service.last_message : ''),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[], styles: (string | undefined)[] = []) =>
    c
      .map((v, i) => {
        const padded = i === c.length - 1 ? v : v.padEnd(width[i]);
        return styles[i] ? paint(styles[i]!, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  const out = [
    line(
      head,
      head.map(() => '1'),
    ),
  ];
  const errorCol = head.length - 1;
  rows.forEach((r, i) =>
    out.push(
      line(
        cells[i],
        head.map((_, k) => (k === 2 ? (r.up ? '32' : '31') : k === errorCol && !r.up ? '2' : undefined)),
      ),
    ),
  );
  const down = rows.filter((r) => !r.up).length;
  out.push('', down ? `${down} of ${rows.length} down` : `all ${rows.length} up`);
  return out.join('\n') + '\n';
}
