// Paths to a host other than a plain connection to its address, for an application that knows
// another way (src/relay/route.ts reaches a device through its tunnel on the relay):
//   - a Router names each host's HostRoute; the run's connections (src/engine/runner/connections.ts)
//     let the route connect the host, and ask it for a fresh login by its own path (probe);
//   - the mechanisms a route is built from: directAttempt (the host's own address, or its jump hosts),
//     loginThrough (an SSH login over a channel another connection opens, its host key checked against
//     keys pinned elsewhere), and race (the direct attempt first; the other as soon as the direct one
//     fails, or has not even got a TCP connection after a short wait; the first to log in wins, and a
//     direct attempt that did get a TCP connection is still waited for a little).
import { connect as tcpConnect, type Socket } from 'node:net';
import { UnreachableError } from '../util/errors.js';
import type { Duplex } from 'node:stream';
import { streamThrough } from './jump.js';
import { SshConnection, type SshTarget } from './ssh.js';
import type { ResolvedTarget } from './target.js';
import type { KnownKey } from './known-hosts.js';
import type { Connection, Via } from './types.js';

/** How long a direct attempt may go without a TCP connection before the other path starts too. */
export const DIRECT_HEAD_START_MS = 200;
/** How long a direct attempt that has a TCP connection is still waited for once the other path has logged in. */
export const DIRECT_GRACE_MS = 1500;

export function pinnedKey(hostKey: string): KnownKey {
  const [type, key] = hostKey.trim().split(/\s+/);
  return { type, key };
}

/** What an application says about reaching one host other than only at its own address. */
export interface HostRoute {
  /** The path's name, as runs report it (`via=NAME` in the recap) and modules see it (PlanContext.via). */
  readonly name: string;
  /** How -v output says a host was reached this way, e.g. "through the relay (its own tunnel)". */
  readonly describe: string;
  /** Reach the host: `direct()` starts a login at its own address, which the route may race against its path. */
  connect(target: ResolvedTarget, direct: () => Attempt<SshConnection>): Promise<SshConnection>;
  /**
   * A new login by the route's own path only, leaving the host's connection alone (proof the path works).
   * `through` names one of the route's ways when it has several (its meaning is the application's).
   */
  probe(target: SshTarget, through?: string): Promise<SshConnection>;
}

/** Each host's route, or none: reached at its own address (or on this machine), as without a router. */
export interface Router {
  routeOf(host: string): HostRoute | undefined;
}

/** What a router may use of the run: other hosts' connections, and what the run has learnt so far. */
export interface RouteContext {
  connection(host: string): Promise<Connection>;
  /** A host's registered results and set facts, as they are now. */
  facts(host: string): Record<string, unknown>;
}

/** One attempt to log in: its result, whether its TCP connection is up, and a way to give it up. */
export interface Attempt<T> {
  result: Promise<T>;
  /** True once the attempt's transport is connected (the host answers). */
  answering(): boolean;
  /** Settles when the attempt fails to connect at the transport level, or is known to be slow. */
  slow: Promise<void>;
  cancel(): void;
}

export interface Raced<T> {
  winner: T;
  via: 'direct' | 'other';
  /** Why the direct path was not taken (when the other path won). */
  directError?: Error;
}

/** Both paths failed: each one's reason. */
export class BothFailedError extends Error {
  constructor(
    readonly direct: Error,
    readonly other: Error,
  ) {
    super(`not reachable directly (${direct.message}) nor the other way (${other.message})`);
  }
}

/**
 * The path-choosing race, independent of SSH (unit-tested with fake attempts). `startOther` (the
 * other path) is called at most once, when the direct attempt fails or is slow; `discard` closes a winner that
 * arrives after the race is decided.
 */
export function race<T>(
  direct: Attempt<T>,
  startOther: () => Attempt<T>,
  discard: (loser: T) => void,
  graceMs = DIRECT_GRACE_MS,
): Promise<Raced<T>> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let other: Attempt<T> | undefined;
    let directError: Error | undefined;
    let otherError: Error | undefined;
    let otherWon: T | undefined;
    let grace: NodeJS.Timeout | undefined;

    const settle = (winner: T, via: 'direct' | 'other') => {
      if (settled) return discard(winner);
      settled = true;
      if (grace) clearTimeout(grace);
      if (via === 'direct' && otherWon !== undefined) discard(otherWon);
      if (via === 'direct') other?.cancel();
      else direct.cancel();
      resolve({ winner, via, directError });
    };
    const bothFailed = () => {
      if (settled || !directError || (other && !otherError)) return;
      settled = true;
      reject(otherError ? new BothFailedError(directError, otherError) : directError);
    };
    const startOtherOnce = () => {
      if (other || settled) return;
      other = startOther();
      other.result.then(
        (conn) => {
          if (settled) return discard(conn);
          // A host that answered directly is probably at home: give its login a moment to finish.
          if (direct.answering() && !directError) {
            otherWon = conn;
            grace = setTimeout(() => settle(conn, 'other'), graceMs);
          } else settle(conn, 'other');
        },
        (e: Error) => {
          otherError = e;
          bothFailed();
        },
      );
    };

    direct.slow.then(startOtherOnce, startOtherOnce);
    direct.result.then(
      (conn) => settle(conn, 'direct'),
      (e: Error) => {
        directError = e;
        if (otherWon !== undefined) return settle(otherWon, 'other');
        startOtherOnce();
        bothFailed();
      },
    );
  });
}

/** The way to a host's sshd for a direct attempt, and what to release when its connection ends. */
interface Transport {
  sock: Duplex;
  release?: () => void;
}

/** A TCP connection to address:port. */
function tcpTransport(t: SshTarget, signal: AbortSignal): Promise<Transport> {
  return new Promise<Transport>((resolve, reject) => {
    const socket: Socket = tcpConnect({ host: t.address, port: t.port });
    const timeout = setTimeout(
      () => socket.destroy(new Error(`connect to ${t.address} port ${t.port}: timed out`)),
      t.connectTimeoutMs ?? 10_000,
    );
    socket.once('connect', () => {
      clearTimeout(timeout);
      resolve({ sock: socket });
    });
    socket.once('error', (e) => {
      clearTimeout(timeout);
      reject(new UnreachableError(t.host, `ssh ${t.user}@${t.address}: ${e.message}`));
    });
    signal.addEventListener('abort', () => socket.destroy(new Error('connection attempt cancelled')), { once: true });
  });
}

/** A channel from the last jump host to address:port (ProxyJump): open once that host's sshd has connected to it. */
function jumpTransport(t: SshTarget, signal: AbortSignal): Promise<Transport> {
  return new Promise<Transport>((resolve, reject) => {
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      reject(e);
    };
    const timeout = setTimeout(
      () =>
        fail(
          new UnreachableError(
            t.host,
            `ssh ${t.user}@${t.address} through ${t.jumps!.map((j) => j.host).join(', ')}: timed out`,
          ),
        ),
      t.connectTimeoutMs ?? 10_000,
    );
    signal.addEventListener('abort', () => fail(new Error('connection attempt cancelled')), { once: true });
    streamThrough(t.jumps!, t.address, t.port).then(
      (s) => {
        if (settled) {
          s.sock.destroy();
          return s.release();
        }
        settled = true;
        clearTimeout(timeout);
        resolve(s);
      },
      (e: Error) => fail(e),
    );
  });
}

/**
 * A way to the host's sshd (a TCP connection, or a channel through its jump hosts), then an SSH
 * login over it. The host "answers" once that way is open.
 */
export function directAttempt(t: SshTarget, headStartMs = DIRECT_HEAD_START_MS): Attempt<SshConnection> {
  const abort = new AbortController();
  let answering = false;
  let markSlow!: () => void;
  const slow = new Promise<void>((r) => (markSlow = r));
  const slowTimer = setTimeout(markSlow, headStartMs);
  const transport = t.jumps?.length ? jumpTransport(t, abort.signal) : tcpTransport(t, abort.signal);
  const result = transport.then(
    ({ sock, release }) => {
      clearTimeout(slowTimer);
      answering = true;
      return SshConnection.open({ ...t, sock, onClose: release, signal: abort.signal, via: 'direct' });
    },
    (e: Error) => {
      clearTimeout(slowTimer);
      markSlow();
      throw e;
    },
  );
  // A failed login still means "not reached directly": let the other path start.
  result.catch(markSlow);
  return { result, answering: () => answering, slow, cancel: () => abort.abort() };
}

/** Where a login through another connection goes, and the host keys the far end must present. */
export interface Channel {
  /** The connection that opens the channel. */
  carrier: Connection;
  /** The address to reach, as the carrier's host sees it. */
  address: string;
  /** Tried in order: the first that opens is used. */
  ports: number[];
  /** The keys the host must present instead of known_hosts; `where` and `ifChanged` go in messages. */
  pinned: { keys: KnownKey[]; where: (port: number) => string; ifChanged: string };
  /** The route's name for the connection (Connection.via). */
  via: Via;
}

/**
 * An SSH login over a channel `channel.carrier` opens to address:port. Rejects with why no port
 * opened (the first error), as `reason`, or with the login's own error.
 */
export async function loginThrough(
  t: SshTarget,
  channel: Channel,
  signal?: AbortSignal,
): Promise<{ conn?: SshConnection; reason?: Error }> {
  let reason: Error | undefined;
  for (const port of channel.ports) {
    const sock = await channel.carrier.forward(channel.address, port).catch((e: Error) => void (reason ??= e));
    if (!sock) continue;
    const pinned = {
      keys: channel.pinned.keys,
      where: channel.pinned.where(port),
      ifChanged: channel.pinned.ifChanged,
    };
    return { conn: await SshConnection.open({ ...t, sock, pinned, signal, via: channel.via }) };
  }
  return { reason };
}
