// How relay-play reaches a device: at its own address (ansible_host, or its jump hosts), or through its
// own tunnel on the relay — an SSH channel from the run's relay connection to localhost:<tunnel port>,
// with the device's SSH session run over it and its host key checked against the key pinned on the relay.
//
// With `connect_via: auto` (the default) both are tried, the direct path first (the engine's race:
// src/engine/connection/route.ts): a device behind NAT never answers, one at home in milliseconds.
// The route is the engine's extension point for this (a Router): `relay-play run` on a relay inventory
// reaches away devices the same way `apply` does.
import {
  BothFailedError,
  hasDirectPath,
  HostKeyError,
  InputError,
  loginThrough,
  pinnedKey,
  race,
  trace,
  UnreachableError,
  type Attempt,
  type Connection,
  type HostRoute,
  type Inventory,
  type RouteContext,
  type Router,
  type SshConnection,
  type SshTarget,
} from '../engine/index.js';
import { bareKey, type FleetState } from './fleet.js';
import { readFleet, relayOf } from './tunnels.js';

export type ConnectVia = 'auto' | 'direct' | 'relay';
/** The per-host variable that forces a path. */
export const CONNECT_VIA_VAR = 'connect_via';
/** The route's name: the recap's `via=relay`, and what modules see as PlanContext.via. */
export const RELAY_VIA = 'relay';

export function connectVia(vars: Record<string, unknown>): ConnectVia {
  const v = String(vars[CONNECT_VIA_VAR] ?? 'auto');
  if (v === 'auto' || v === 'direct' || v === 'relay') return v;
  throw new InputError(
    `${CONNECT_VIA_VAR} must be auto, direct or relay, got ${JSON.stringify(vars[CONNECT_VIA_VAR])}`,
  );
}

/** A device's tunnel: the relay port it holds (the same on each of its relays) and its pinned host key. */
export interface Tunnel {
  port: number;
  hostKey: string; // "ssh-ed25519 AAAA..."
  /** Ports the device's tunnel held before a change this run: where it is if the change was rolled back. */
  formerPorts?: number[];
  /** The relays it keeps a tunnel to (with one relay: that one). */
  relays: string[];
}

/** What the relay path needs: each relay's connection, and where each device's tunnel is. */
export interface Tunnels {
  /** Every relay of the inventory, in its order. */
  relays: string[];
  relay(name: string): Promise<Connection>;
  /** The device's tunnel as recorded (this run's fleet facts first, then the relays' fleet state); undefined if not enrolled. */
  lookup(device: string): Promise<Tunnel | undefined>;
}

/** The device is not in the relay's fleet state (or has no pinned host key there). */
export class NotEnrolledError extends UnreachableError {}

/**
 * Where each device's tunnel is: `runFacts` when the relays' play has decided it this run (a new port,
 * a new device), else the fleet state recorded on the relays, read once from the first that answers
 * (or `known`, already read).
 */
export function fleetTunnels(
  relays: string[],
  relayConnection: (relay: string) => Promise<Connection>,
  runFacts: (device: string) => Record<string, unknown>,
  known?: FleetState,
): Tunnels {
  let fleet: Promise<FleetState> | undefined = known && Promise.resolve(known);
  return {
    relays,
    relay: relayConnection,
    async lookup(device): Promise<Tunnel | undefined> {
      const f = runFacts(device);
      const key = bareKey(f.tunnel_host_key as string | undefined);
      const relaysOfRun = (f.tunnel_relays as { name: string }[] | undefined)?.map((r) => r.name);
      if (Number.isInteger(f.tunnel_port) && key)
        return {
          port: f.tunnel_port as number,
          hostKey: key,
          formerPorts: (f.tunnel_retiring as number[] | undefined) ?? [],
          relays: relaysOfRun ?? relays,
        };
      fleet ??= Promise.any(relays.map((r) => relayConnection(r).then(readFleet)));
      const rec = (await fleet.catch((e: AggregateError) => Promise.reject(e.errors[0] as Error))).devices[device];
      const recorded = bareKey(rec?.host_key);
      return rec && recorded ? { port: rec.port, hostKey: recorded, relays: rec.relays ?? relays } : undefined;
    },
  };
}

/** A channel through one relay to the device's tunnel, then an SSH login over it, checked against the pinned key. */
async function throughRelay(t: SshTarget, tun: Tunnel, tunnels: Tunnels, relayName: string, abort: AbortSignal) {
  const relay = await tunnels.relay(relayName);
  trace(`relay path for ${t.host}: tunnel port ${tun.port} on ${relayName}`);
  if (abort.aborted) throw new UnreachableError(t.host, 'connection attempt cancelled');
  const { conn, reason } = await loginThrough(
    t,
    {
      carrier: relay,
      address: 'localhost',
      ports: [tun.port, ...(tun.formerPorts ?? [])],
      pinned: {
        keys: [pinnedKey(tun.hostKey)],
        where: (port) => `through the relay (its tunnel, port ${port} on ${relayName})`,
        ifChanged: `If ${t.host} was really reinstalled, run relay-play apply with it reachable directly once, so its new key is read and pinned`,
      },
      via: RELAY_VIA,
    },
    abort,
  );
  if (conn) return conn;
  throw new UnreachableError(
    t.host,
    `its tunnel is not up on the relay ${relayName} (port ${tun.port}): ${reason?.message.replace(/^.*: /, '')}`,
  );
}

/**
 * Through the device's relays at once (or only `through`): the first login wins, the others are given
 * up — a relay that is down (its connection timing out) costs nothing while another answers.
 */
export function relayAttempt(t: SshTarget, tunnels: Tunnels, through?: string): Attempt<SshConnection> {
  const abort = new AbortController();
  const result = (async () => {
    trace(`relay path for ${t.host}: started`);
    const tun = await tunnels.lookup(t.host);
    if (!tun) throw new NotEnrolledError(t.host, `${t.host} has no tunnel on the relay yet`);
    const names = through ? [through] : tun.relays;
    // Each relay's login has its own signal: the winner's connection lives on (the SSH session keeps
    // the signal), only the others are given up.
    const own = names.map(() => new AbortController());
    abort.signal.addEventListener('abort', () => own.forEach((a) => a.abort()), { once: true });
    const tries = names.map((r, i) => throughRelay(t, tun, tunnels, r, own[i].signal));
    try {
      const winner = await Promise.any(tries.map((p, i) => p.then((conn) => ({ conn, i }))));
      tries.forEach((other, i) => {
        if (i === winner.i) return;
        own[i].abort();
        void other.then(quietly, () => undefined);
      });
      return winner.conn;
    } catch (e) {
      const errors = (e as AggregateError).errors as Error[];
      if (errors.length === 1) throw errors[0];
      throw new UnreachableError(t.host, errors.map((x) => x.message.replace(/^[^:]*: /, '')).join('; '));
    }
  })();
  return { result, answering: () => false, slow: Promise.resolve(), cancel: () => abort.abort() };
}

const quietly = (c: SshConnection) => void c.close().catch(() => undefined);

/** Reach a device by the path `via` asks for; `auto` races direct against the relay (see the top of this file). */
export async function reachDevice(
  t: SshTarget,
  via: ConnectVia,
  tunnels: Tunnels,
  opts: { hasAddress: boolean; direct: () => Attempt<SshConnection> },
): Promise<SshConnection> {
  if (via === 'direct') return opts.direct().result;
  if (via === 'relay' || !opts.hasAddress) {
    return relayAttempt(t, tunnels).result.catch((e: Error) => {
      if (!(e instanceof NotEnrolledError)) throw e;
      const why = via === 'relay' ? `${CONNECT_VIA_VAR} is relay, but` : `${t.host} has no ansible_host and`;
      throw new UnreachableError(
        t.host,
        `${why} ${t.host} has no tunnel on the relay yet: a device is enrolled over a direct connection once (give it an ansible_host${via === 'relay' ? ` and ${CONNECT_VIA_VAR}: auto` : ''} for its first apply)`,
      );
    });
  }
  // The lookup (relay connection, fleet state) runs inside the relay attempt: a home device never waits for it.
  const raced = await race(opts.direct(), () => relayAttempt(t, tunnels), quietly).catch((e: Error) => {
    throw explainBothFailed(t.host, e);
  });
  return raced.winner;
}

/** Neither path: say why in the words that help (never enrolled → must be reachable once). */
function explainBothFailed(host: string, e: Error): Error {
  const both = e as BothFailedError;
  if (!(both instanceof BothFailedError)) return e;
  if (both.other instanceof NotEnrolledError) {
    return new UnreachableError(
      host,
      `${both.direct.message}; ${host} has no tunnel on the relay yet, so it must be reachable directly once (ansible_host) to be enrolled`,
    );
  }
  // A key that does not match is the news, whatever the other path said.
  if (both.direct instanceof HostKeyError) return both.direct;
  if (both.other instanceof HostKeyError) return both.other;
  return new UnreachableError(
    host,
    `not reachable directly (${both.direct.message}) nor through the relay (${both.other.message})`,
  );
}

/** The route of every device of a relay inventory: direct or through its tunnel, as `connect_via` says. */
export function relayRouter(
  devices: ReadonlySet<string>,
  vars: (host: string) => Record<string, unknown>,
  tunnels: Tunnels,
): Router {
  const route: HostRoute = {
    name: RELAY_VIA,
    describe: 'through the relay (its own tunnel)',
    connect: (t, direct) => reachDevice(t, connectVia(vars(t.host)), tunnels, { hasAddress: hasDirectPath(t), direct }),
    probe: (t, through) => relayAttempt(t, tunnels, through).result,
  };
  return { routeOf: (host) => (devices.has(host) ? route : undefined) };
}

/** The engine's RouterFactory for a run on `inv`: none unless it is a relay inventory. */
export function relayRoutes(inv: Inventory, run: RouteContext): Router | undefined {
  const fleet = relayOf(inv);
  if (!fleet) return undefined;
  const vars = (host: string) => inv.hosts.get(host)!.vars;
  return relayRouter(
    fleet.devices,
    vars,
    fleetTunnels(fleet.relays, (r) => run.connection(r), run.facts),
  );
}
