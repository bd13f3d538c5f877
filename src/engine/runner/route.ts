// Reaching a device: at its own address (direct: TCP, or through its jump hosts), or through its own tunnel on the relay — an SSH
// `direct-tcpip` channel from the run's relay connection to localhost:<tunnel port>, with the
// device's SSH session run over it and its host key checked against the key pinned on the relay.
//
// With `connect_via: auto` (the default) both are tried: direct first, and the relay path as soon as
// the direct one fails, or has not even got a TCP connection after a short wait (a device behind NAT
// never answers; one at home answers in milliseconds). The first to log in wins; a direct attempt
// that did get a TCP connection is still waited for a little, so a home device is reached directly.
import { connect as tcpConnect, type Socket } from 'node:net';
import { InputError, UnreachableError } from '../util/errors.js';
import type { Duplex } from 'node:stream';
import { streamThrough } from '../connection/jump.js';
import { HostKeyError, SshConnection, type SshTarget } from '../connection/ssh.js';
import { trace } from '../util/trace.js';
import type { KnownKey } from '../connection/known-hosts.js';
import type { Connection } from '../connection/types.js';

export type ConnectVia = 'auto' | 'direct' | 'relay';
/** The per-host variable that forces a path. */
export const CONNECT_VIA_VAR = 'connect_via';

export function connectVia(vars: Record<string, unknown>): ConnectVia {
  const v = String(vars[CONNECT_VIA_VAR] ?? 'auto');
  if (v === 'auto' || v === 'direct' || v === 'relay') return v;
  throw new InputError(
    `${CONNECT_VIA_VAR} must be auto, direct or relay, got ${JSON.stringify(vars[CONNECT_VIA_VAR])}`,
  );
}

/** A device's tunnel on the relay: the relay port it holds and the device's pinned host key. */
export interface Tunnel {
  port: number;
  hostKey: string; // "ssh-ed25519 AAAA..."
  /** Ports the device's tunnel held before a change this run: where it is if the change was rolled back. */
  formerPorts?: number[];
}

/** What the relay path needs from the run: the relay's connection, and where each device's tunnel is. */
export interface Tunnels {
  relayName: string;
  relay(): Promise<Connection>;
  /** The device's tunnel as recorded (this run's fleet facts first, then the relay's fleet state); undefined if not enrolled. */
  lookup(device: string): Promise<Tunnel | undefined>;
}

/** How long a direct attempt may go without a TCP connection before the relay path starts too. */
export const DIRECT_HEAD_START_MS = 200;
/** How long a direct attempt that has a TCP connection is still waited for once the relay path has logged in. */
export const DIRECT_GRACE_MS = 1500;

export function pinnedKey(hostKey: string): KnownKey {
  const [type, key] = hostKey.trim().split(/\s+/);
  return { type, key };
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
  via: 'direct' | 'relay';
  /** Why the direct path was not taken (when the relay path won). */
  directError?: Error;
}

/** The device is not in the relay's fleet state (or has no pinned host key there). */
export class NotEnrolledError extends UnreachableError {}

/** Both paths failed: each one's reason. */
export class BothFailedError extends Error {
  constructor(
    readonly direct: Error,
    readonly relay: Error,
  ) {
    super(`not reachable directly (${direct.message}) nor through the relay (${relay.message})`);
  }
}

/**
 * The path-choosing race, independent of SSH (unit-tested with fake attempts). `startRelay` is
 * called at most once, when the direct attempt fails or is slow; `discard` closes a winner that
 * arrives after the race is decided.
 */
export function race<T>(
  direct: Attempt<T>,
  startRelay: () => Attempt<T>,
  discard: (loser: T) => void,
  graceMs = DIRECT_GRACE_MS,
): Promise<Raced<T>> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let relay: Attempt<T> | undefined;
    let directError: Error | undefined;
    let relayError: Error | undefined;
    let relayWon: T | undefined;
    let grace: NodeJS.Timeout | undefined;

    const settle = (winner: T, via: 'direct' | 'relay') => {
      if (settled) return discard(winner);
      settled = true;
      if (grace) clearTimeout(grace);
      if (via === 'direct' && relayWon !== undefined) discard(relayWon);
      if (via === 'direct') relay?.cancel();
      else direct.cancel();
      resolve({ winner, via, directError });
    };
    const bothFailed = () => {
      if (settled || !directError || (relay && !relayError)) return;
      settled = true;
      reject(relayError ? new BothFailedError(directError, relayError) : directError);
    };
    const startRelayOnce = () => {
      if (relay || settled) return;
      relay = startRelay();
      relay.result.then(
        (conn) => {
          if (settled) return discard(conn);
          // A host that answered directly is probably at home: give its login a moment to finish.
          if (direct.answering() && !directError) {
            relayWon = conn;
            grace = setTimeout(() => settle(conn, 'relay'), graceMs);
          } else settle(conn, 'relay');
        },
        (e: Error) => {
          relayError = e;
          bothFailed();
        },
      );
    };

    direct.slow.then(startRelayOnce, startRelayOnce);
    direct.result.then(
      (conn) => settle(conn, 'direct'),
      (e: Error) => {
        directError = e;
        if (relayWon !== undefined) return settle(relayWon, 'relay');
        startRelayOnce();
        bothFailed();
      },
    );
  });
}

/** The way to a device's sshd for a direct attempt, and what to release when its connection ends. */
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
 * A way to the device's sshd (a TCP connection, or a channel through its jump hosts), then an SSH
 * login over it. The device "answers" once that way is open.
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
  // A failed login still means "not reached directly": let the relay path start.
  result.catch(markSlow);
  return { result, answering: () => answering, slow, cancel: () => abort.abort() };
}

/** A channel through the relay to the device's tunnel, then an SSH login over it, checked against the pinned key. */
export function relayAttempt(t: SshTarget, tunnels: Tunnels, tunnel?: Tunnel): Attempt<SshConnection> {
  const abort = new AbortController();
  const result = (async () => {
    trace(`relay path for ${t.host}: started`);
    const tun = tunnel ?? (await tunnels.lookup(t.host));
    if (!tun) throw new NotEnrolledError(t.host, `${t.host} has no tunnel on the relay yet`);
    const relay = await tunnels.relay();
    trace(`relay path for ${t.host}: tunnel port ${tun.port}`);
    if (abort.signal.aborted) throw new UnreachableError(t.host, 'connection attempt cancelled');
    let firstError: Error | undefined;
    for (const port of [tun.port, ...(tun.formerPorts ?? [])]) {
      const sock = await relay.forward('localhost', port).catch((e: Error) => void (firstError ??= e));
      if (!sock) continue;
      trace(`relay path for ${t.host}: channel to port ${port} open`);
      const where = `through the relay (its tunnel, port ${port} on ${tunnels.relayName})`;
      return SshConnection.open({
        ...t,
        sock,
        pinned: { keys: [pinnedKey(tun.hostKey)], where },
        signal: abort.signal,
        via: 'relay',
      });
    }
    throw new UnreachableError(
      t.host,
      `its tunnel is not up on the relay (port ${tun.port}): ${firstError?.message.replace(/^.*: /, '')}`,
    );
  })();
  return { result, answering: () => false, slow: Promise.resolve(), cancel: () => abort.abort() };
}

const quietly = (c: SshConnection) => void c.close().catch(() => undefined);

/** Reach a device by the path `via` asks for; `auto` races direct against the relay (see the top of this file). */
export async function reachDevice(
  t: SshTarget,
  via: ConnectVia,
  tunnels: Tunnels,
  opts: { hasAddress: boolean },
): Promise<SshConnection> {
  if (via === 'direct') return directAttempt(t).result;
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
  const raced = await race(directAttempt(t), () => relayAttempt(t, tunnels), quietly).catch((e: Error) => {
    throw explainBothFailed(t.host, e);
  });
  return raced.winner;
}

/** Neither path: say why in the words that help (never enrolled → must be reachable once). */
function explainBothFailed(host: string, e: Error): Error {
  const both = e as BothFailedError;
  if (!(both instanceof BothFailedError)) return e;
  if (both.relay instanceof NotEnrolledError) {
    return new UnreachableError(
      host,
      `${both.direct.message}; ${host} has no tunnel on the relay yet, so it must be reachable directly once (ansible_host) to be enrolled`,
    );
  }
  // A key that does not match is the news, whatever the other path said.
  if (both.direct instanceof HostKeyError) return both.direct;
  if (both.relay instanceof HostKeyError) return both.relay;
  return new UnreachableError(
    host,
    `not reachable directly (${both.direct.message}) nor through the relay (${both.relay.message})`,
  );
}
