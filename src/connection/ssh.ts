// One SSH connection per host (node-ssh / ssh2), reused for every task; each command is one exec channel.
// The transport is a TCP socket to the host, or any stream that reaches its sshd (a `direct-tcpip`
// channel through the relay: src/runner/route.ts).
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import { UnreachableError } from '../errors.js';
import { withBecome } from './become.js';
import { addKnownHost, keysFor, keyType, knownHostsName, type KnownKey } from './known-hosts.js';
import type { Connection, Held, RunOptions, RunResult, Via } from './types.js';

export interface SshTarget {
  host: string; // inventory name, for messages
  address: string;
  port: number;
  user: string;
  privateKeyPath?: string;
  knownHostsFile?: string;
  /** Accept and record the key of a host not yet in known_hosts (never a changed key). */
  acceptNewHostKeys: boolean;
  connectTimeoutMs?: number;
  /** An open stream to the host's sshd, used instead of connecting to address:port. */
  sock?: Duplex;
  /**
   * Host keys pinned elsewhere (the relay's fleet state): the host must present one of these, and
   * known_hosts is neither read nor written. `pinnedWhere` names the pin in messages.
   */
  pinned?: { keys: KnownKey[]; where: string };
  /** How the host is reached, for output. */
  via?: Via;
  /** Ends a connection attempt that lost a race (src/runner/route.ts). */
  signal?: AbortSignal;
}

/** Refused because the host presented a key other than the one on file: never worth a retry. */
export class HostKeyError extends UnreachableError {}

export class SshConnection implements Connection {
  private constructor(
    readonly host: string,
    private readonly ssh: NodeSSH,
    readonly via: Via,
  ) {}

  static async open(t: SshTarget): Promise<SshConnection> {
    const knownHosts = t.knownHostsFile ?? join(homedir(), '.ssh', 'known_hosts');
    const name = knownHostsName(t.address, t.port);
    const known = t.pinned ? t.pinned.keys : keysFor(knownHosts, name);
    let refusal: string | undefined;
    let keyChanged = false;

    const ssh = new NodeSSH();
    const abort = () => ssh.dispose();
    t.signal?.addEventListener('abort', abort, { once: true });
    try {
      if (t.signal?.aborted) throw new Error('connection attempt cancelled');
      await ssh.connect({
        ...(t.sock ? { sock: t.sock } : { host: t.address, port: t.port }),
        username: t.user,
        privateKeyPath: t.privateKeyPath,
        agent: t.privateKeyPath ? undefined : process.env.SSH_AUTH_SOCK,
        readyTimeout: t.connectTimeoutMs ?? 10_000,
        keepaliveInterval: 5_000,
        // Only offer the key types we have on file, so a host with several keys is not "changed".
        algorithms: known.length ? { serverHostKey: [...new Set(known.map((k) => k.type))] as never } : undefined,
        hostVerifier: (key: Buffer) => {
          const blob = key.toString('base64');
          if (known.length) {
            if (known.some((k) => k.key === blob)) return true;
            keyChanged = true;
            refusal = t.pinned
              ? `REMOTE HOST KEY HAS CHANGED for ${t.host} ${t.pinned.where}; refusing to connect. If ${t.host} was really reinstalled, run relay-play apply with it reachable directly once, so its new key is read and pinned`
              : `REMOTE HOST KEY HAS CHANGED for ${name} (${knownHosts}); refusing to connect. If the host was really reinstalled, remove its old line with: ssh-keygen -R ${name} -f ${knownHosts}`;
            return false;
          }
          if (t.pinned) {
            refusal = `no host key is pinned for ${t.host} ${t.pinned.where}`;
            return false;
          }
          if (t.acceptNewHostKeys) {
            addKnownHost(knownHosts, name, keyType(key), blob);
            return true;
          }
          refusal = `host key for ${name} is not in ${knownHosts}; add it (ssh-keyscan, or connect once with ssh) or run with --accept-new-host-keys`;
          return false;
        },
      });
    } catch (e) {
      ssh.dispose();
      const where = t.sock ? `ssh ${t.user}@${t.host} ${t.pinned?.where ?? ''}`.trimEnd() : `ssh ${t.user}@${name}`;
      const msg = refusal ?? `${where}: ${(e as Error).message}`;
      throw keyChanged ? new HostKeyError(t.host, msg) : new UnreachableError(t.host, msg);
    } finally {
      t.signal?.removeEventListener('abort', abort);
    }
    // node-ssh stops listening for errors once connected: a connection that breaks later (a tunnel
    // restarted under it) must fail the command in flight, not crash the process.
    ssh.connection?.on('error', () => undefined);
    // Each task is a few small request/response exchanges: without TCP_NODELAY, Nagle's algorithm
    // meets delayed ACKs and every command waits ~40 ms for nothing.
    (t.sock as { setNoDelay?: (b: boolean) => void } | undefined)?.setNoDelay?.(true);
    ssh.connection?.setNoDelay(true);
    return new SshConnection(t.host, ssh, t.via ?? 'direct');
  }

  /** A stream to host:port as seen from this host (an SSH `direct-tcpip` channel). */
  async forward(host: string, port: number): Promise<Duplex> {
    try {
      return await this.ssh.forwardOut('127.0.0.1', 0, host, port);
    } catch (e) {
      throw new UnreachableError(this.host, `cannot open a channel to ${host}:${port} on ${this.host}: ${(e as Error).message}`);
    }
  }

  async run(command: string, opts: RunOptions = {}): Promise<RunResult> {
    const line = withBecome(command, opts);
    try {
      const r = await this.ssh.execCommand(line, { stdin: opts.stdin, noTrim: true });
      return { code: r.code ?? 255, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      throw new UnreachableError(this.host, `connection lost: ${(e as Error).message}`);
    }
  }

  hold(command: string, opts: RunOptions = {}): Promise<Held> {
    const client = this.ssh.connection;
    if (!client) return Promise.reject(new UnreachableError(this.host, 'not connected'));
    return new Promise((resolve, reject) => {
      client.exec(withBecome(command, opts), (err, channel) => {
        if (err) return reject(new UnreachableError(this.host, `connection lost: ${err.message}`));
        let out = '';
        let done = false;
        const release = async () => {
          channel.end();
        };
        channel.on('data', (d: Buffer) => {
          out += d.toString('utf8');
          if (!done && out.includes('\n')) {
            done = true;
            resolve({ firstLine: out.split('\n')[0], release });
          }
        });
        channel.stderr.on('data', () => undefined);
        channel.on('exit', (code: number | null) => {
          if (!done) {
            done = true;
            resolve({ firstLine: out.split('\n')[0] ?? '', exitCode: code ?? 255, release });
          }
        });
      });
    });
  }

  async close(): Promise<void> {
    this.ssh.dispose();
  }
}
