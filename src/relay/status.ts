// `relay-play status`: is each device's tunnel up? Decided on the relay: the device's port is
// listening AND an SSH handshake through it presents the device's pinned host key. Pure parts here:
// the one batched script the relay runs, parsing its output, the rows, and the table.
import { bareKey, type FleetState } from './fleet.js';
import { parseEtimes, parseSs, sessionPids, type Listener } from './sessions.js';

/**
 * Run on the relay (as root), in one round trip: $1 the fleet state file, $2 relay-play's directory
 * under /run. Prints the fleet state, the listeners, the age of every listening process, and for each
 * device port that is listening the ed25519 host key seen through it. Sections start with "---".
 *
 * A tunnel is one sshd session on the relay, and what answers through it can't change while that
 * session lives: its host key is read (ssh-keyscan, 32 at a time, 4 s at most each) once per session
 * and remembered in $2/status-checked (port, session = pid.start time, key), so a status of hundreds of
 * tunnels scans only those that came up since the last one. Device ports are the "port" keys of the
 * entries under "devices" in the state file as relay-play writes it (one key a line); with $3.. given,
 * those ports instead.
 */
export const STATUS_SCRIPT = `f=$1 run=$2; shift 2
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
echo '---fleet'; if [ -f "$f" ]; then cat -- "$f"; fi
if [ $# -gt 0 ]; then printf '%s\\n' "$@" > "$t/ports"
else
  awk '{ if (depth == 1 && $0 ~ /^ *"[^"]*":/) sec = ($0 ~ /^ *"devices":/) }
    sec && depth == 3 && /^ *"port": *[0-9]+/ { gsub(/[^0-9]/, ""); print }
    { depth += gsub(/[{]/, "&") - gsub(/[}]/, "&") }' "$f" > "$t/ports" 2>/dev/null
fi
scan=yes; command -v ssh-keyscan >/dev/null 2>&1 || scan=no
ss -Hltnp >"$t/ss" 2>&1
# "port pid" of sshd's listeners on loopback, then "port pid.starttime": a session's identity.
awk '{ n = split($4, a, ":"); p = a[n]; addr = substr($4, 1, length($4) - length(p) - 1)
  if ((addr == "127.0.0.1" || addr == "[::1]") && match($0, /"sshd[^"]*",pid=[0-9]+/)) { s = substr($0, RSTART, RLENGTH); sub(/.*pid=/, "", s); print p, s } }' "$t/ss" | sort -u -k1,1 > "$t/listen"
while read -r port pid; do
  if read -r st < "/proc/$pid/stat"; then set -- $st; echo "$port $pid.\${22}"; fi
done < "$t/listen" > "$t/sessions" 2>/dev/null
cat -- "$run/status-checked" > "$t/checked" 2>/dev/null
# Device ports that listen: the key remembered for their session, or a scan.
awk -v keys="$t/keys" -v scans="$t/scan" 'FILENAME == ARGV[1] { want[$1] = 1; next }
  FILENAME == ARGV[2] { sid[$1] = $2; next }
  ($1 in want) && ($1 in sid) && sid[$1] == $2 && !($1 in seen) { seen[$1] = 1; print > keys }
  END { for (p in want) if ((p in sid) && !(p in seen)) print p > scans }' "$t/ports" "$t/sessions" "$t/checked"
touch "$t/keys" "$t/scan"
if [ $scan = yes ] && [ -s "$t/scan" ]; then
  xargs -P 32 -I{} sh -c 'ssh-keyscan -T 4 -t ed25519 -p "$2" 127.0.0.1 > "$1/k$2" 2>/dev/null' sh "$t" {} < "$t/scan"
  awk -v dir="$t" 'FILENAME == dir "/sessions" { sid[$1] = $2; next } /^#/ || !NF { next }
    { p = FILENAME; sub(/.*\\/k/, "", p); if (!(p in done)) { done[p] = 1; print p, sid[p], $0 } }' "$t/sessions" "$t"/k* >> "$t/keys"
fi
if mkdir -p -m 0700 -- "$run" && cp -- "$t/keys" "$run/.status-checked.tmp"; then mv -f -- "$run/.status-checked.tmp" "$run/status-checked"; fi 2>/dev/null
echo '---ports'; cat "$t/ports"
echo "---scan $scan"
echo '---ss'; cat "$t/ss"
pids=$(grep -o 'pid=[0-9]*' "$t/ss" | cut -d= -f2 | sort -u | tr '\\n' ',' | sed 's/,$//')
echo '---ps'; if [ -n "$pids" ]; then ps -o pid=,etimes= -p "$pids" 2>/dev/null; fi
while read -r port sess line; do echo "---key $port"; echo "$line"; done < "$t/keys"
exit 0`;

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
}

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
    };
  });
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
export function statusTable(rows: StatusRow[], opts: { color: boolean; service?: boolean }): string {
  const paint = (code: string, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const head = ['DEVICE', 'PORT', 'TUNNEL', 'UP FOR', ...(opts.service ? ['REACHED', 'RESTARTS'] : []), 'ERROR'];
  const cells = rows.map((r) => [
    r.in_inventory ? r.name : `${r.name} (not in inventory)`,
    r.port === null
      ? '-'
      : String(r.port) + (r.forwards.length ? ` +${r.forwards.map((f) => f.relay_port).join(',')}` : ''),
    r.up ? 'up' : 'down',
    r.up_seconds !== null ? humanDuration(r.up_seconds) : '-',
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
