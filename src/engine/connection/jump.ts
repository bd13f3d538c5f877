// Jump hosts (ProxyJump), with ssh2 channels and no `ssh` binary: the first hop is an SSH connection
// of its own, each next hop is reached over a `direct-tcpip` channel of the one before, and the target
// over one of the last. Every hop's host key is checked as any host's is (SshConnection.open).
//
// Hosts behind the same bastion share its connection for the run (one per chain of hops, counted
// by its users): it closes when the last connection that rides on it does.
import type { Duplex } from 'node:stream';
import { UnreachableError } from '../util/errors.js';
import { HostKeyError, SshConnection, type SshTarget } from './ssh.js';

interface Hop {
  key: string;
  conn: Promise<SshConnection>;
  users: number;
  parent?: Hop;
}

const hops = new Map<string, Hop>();

const hopKey = (chain: readonly SshTarget[]) => chain.map((h) => `${h.user}@${h.address}:${h.port}`).join(' > ');

function acquire(chain: readonly SshTarget[]): Hop {
  const key = hopKey(chain);
  const existing = hops.get(key);
  if (existing) {
    existing.users++;
    return existing;
  }
  const parent = chain.length > 1 ? acquire(chain.slice(0, -1)) : undefined;
  const t = chain[chain.length - 1];
  const hop: Hop = { key, users: 1, parent, conn: Promise.resolve(undefined as never) };
  const forget = () => {
    if (hops.get(key) === hop) hops.delete(key);
  };
  hop.conn = (async () => {
    const sock = parent ? await (await parent.conn).forward(t.address, t.port) : undefined;
    return SshConnection.open({ ...t, jumps: undefined, sock, onClose: forget, via: 'direct' });
  })().catch((e: Error) => {
    forget();
    throw asHopError(t, e);
  });
  hops.set(key, hop);
  return hop;
}

function release(hop: Hop): void {
  if (--hop.users > 0) return;
  if (hops.get(hop.key) === hop) hops.delete(hop.key);
  void hop.conn.then((c) => c.close()).catch(() => undefined);
  if (hop.parent) release(hop.parent);
}

/** A hop's failure, said as the jump host's: "jump host bastion: ...". */
function asHopError(t: SshTarget, e: Error): Error {
  if (e.message.startsWith('jump host ')) return e;
  const msg = `jump host ${t.host}: ${e.message}`;
  return e instanceof HostKeyError ? new HostKeyError(t.host, msg) : new UnreachableError(t.host, msg);
}

/**
 * A stream to address:port through `jumps` (first to last), and `release` to call when the connection
 * over it is done. The stream exists once the last hop's sshd has connected to address:port.
 */
export async function streamThrough(
  jumps: readonly SshTarget[],
  address: string,
  port: number,
): Promise<{ sock: Duplex; release: () => void }> {
  const last = acquire(jumps);
  let released = false;
  const done = () => {
    if (!released) {
      released = true;
      release(last);
    }
  };
  try {
    const sock = await (await last.conn).forward(address, port);
    return { sock, release: done };
  } catch (e) {
    done();
    throw e;
  }
}

/** Open `t` through its jump hosts (or directly when it has none). */
export async function openVia(t: SshTarget): Promise<SshConnection> {
  if (!t.jumps?.length || t.sock) return SshConnection.open(t);
  const { sock, release } = await streamThrough(t.jumps, t.address, t.port);
  return SshConnection.open({ ...t, sock, onClose: chain(t.onClose, release) });
}

export const chain =
  (...fns: (undefined | (() => void))[]) =>
  () =>
    fns.forEach((f) => f?.());
