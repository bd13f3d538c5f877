// One SSH connection per host (node-ssh / ssh2), reused for every task; each command is one exec channel.
// The transport is a TCP socket to the host, or any stream that reaches its sshd (a `direct-tcpip`
// channel another connection opens: src/engine/connection/route.ts; through jump hosts: ./jump.ts).
// Keys are offered as ssh offers them (./identities.ts); host keys are checked against
// known_hosts (./known-hosts.ts) or keys pinned elsewhere (a route's).
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import { UnreachableError } from '../util/errors.js';
import { withBecome } from './become.js';
import { identityFiles, Identities } from './identities.js';
import {
  addKnownHost,
  hostKeyAlgorithms,
  keyType,
  knownHostsName,
  lookupHostKeys,
  type KnownKey,
} from './known-hosts.js';
import type { Connection, Held, RunOptions, RunResult, Via } from './types.js';

export interface SshTarget {
  host: string; // inventory name (or the jump host's name), for messages
  address: string;
  port: number;
  user: string;
  /** Identity files to offer after the agent's keys (src/engine/connection/identities.ts). */
  identityFiles?: string[];
  /** Offer only the identity files (agent keys only where they are one of them). */
  identitiesOnly?: boolean;
  /** The agent's socket; undefined for no agent. */
  agent?: string;
  /** User known_hosts files: keys are looked up in all, a new key is recorded in the first. */
  knownHostsFiles?: string[];
  /** System known_hosts files: looked up, never written. */
  globalKnownHostsFiles?: string[];
  /** The name the host's key is filed under instead of its address (HostKeyAlias). */
  hostKeyAlias?: string;
  /** Accept and record the key of a host not yet in known_hosts (never a changed key). */
  acceptNewHostKeys: boolean;
  connectTimeoutMs?: number;
  /** Jump hosts, first to last (ProxyJump); src/engine/connection/jump.ts opens the way through them. */
  jumps?: SshTarget[];
  /** An open stream to the host's sshd, used instead of connecting to address:port. */
  sock?: Duplex;
  /** Called once when the connection ends or fails to open (releases the jump hosts it rode on). */
  onClose?: () => void;
  /**
   * Host keys pinned elsewhere (by an application's route): the host must present one of these, and
   * known_hosts is neither read nor written (but a key it marks @revoked is still refused). `where`
   * names the pin in messages, `ifChanged` says what to do about a changed key.
   */
  pinned?: { keys: KnownKey[]; where: string; ifChanged: string };
  /** How the host is reached, for output. */
  via?: Via;
  /** Ends a connection attempt that lost a race (./route.ts). */
  signal?: AbortSignal;
  /** Added to a failed connection's message (e.g. a ProxyCommand in ~/.ssh/config that is not run). */
  hint?: string;
}

/** Refused because the host presented a key other than the one on file (or a revoked one): never worth a retry. */
export class HostKeyError extends UnreachableError {}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export class SshConnection implements Connection {
  private closed = false;

  private constructor(
    readonly host: string,
    private readonly ssh: NodeSSH,
    readonly via: Via,
    /** The user logged in as: root needs no sudo to become root. */
    readonly user: string,
    private readonly onClose?: () => void,
  ) {
    ssh.connection?.once('close', () => this.ended());
  }

  static async open(t: SshTarget): Promise<SshConnection> {
    const knownFiles = t.knownHostsFiles ?? [join(homedir(), '.ssh', 'known_hosts')];
    const name = t.hostKeyAlias ?? knownHostsName(t.address, t.port);
    const onFile = lookupHostKeys([...knownFiles, ...(t.globalKnownHostsFiles ?? [])], name);
    const known = t.pinned ? t.pinned.keys : onFile.keys;
    // @revoked is honoured however the host is reached: through the relay (pinned key), by its name.
    const revoked = t.pinned
      ? lookupHostKeys([...knownFiles, ...(t.globalKnownHostsFiles ?? [])], t.host).revoked
      : onFile.revoked;
    let refusal: string | undefined;
    let keyRefused = false;

    const ssh = new NodeSSH();
    // destroy, not end: a socket still connecting must not keep the process waiting for its SYN retries.
    const kill = () => {
      ssh.connection?.destroy();
      ssh.dispose();
    };
    // Our own deadline rather than ssh2's readyTimeout: it must not run while a passphrase is asked.
    const timeoutMs = t.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, timeoutMs);
    };
    const identities = new Identities({
      files: t.identityFiles ?? identityFiles([]),
      identitiesOnly: t.identitiesOnly ?? false,
      agent: t.agent,
      onPrompt: (asking) => (asking ? clearTimeout(timer) : arm()),
    });
    const abort = kill;
    t.signal?.addEventListener('abort', abort, { once: true });
    try {
      if (t.signal?.aborted) throw new Error('connection attempt cancelled');
      arm();
      await ssh.connect({
        ...(t.sock ? { sock: t.sock } : { host: t.address, port: t.port }),
        username: t.user,
        authHandler: [{ type: 'agent', username: t.user, agent: identities }] as never,
        readyTimeout: 2 ** 31 - 1,
        keepaliveInterval: 5_000,
        algorithms: {
          serverHostKey: known.length ? (hostKeyAlgorithms(known) as never) : ({ remove: 'ssh-rsa' } as never),
        },
        hostVerifier: (key: Buffer) => {
          const blob = key.toString('base64');
          const revokedBy = revoked.find((k) => k.key === blob);
          if (revokedBy) {
            keyRefused = true;
            refusal = `the host key of ${t.host} (${name}) is marked @revoked in ${revokedBy.file}; refusing to connect`;
            return false;
          }
          if (known.length) {
            if (known.some((k) => k.key === blob)) return true;
            keyRefused = true;
            refusal = t.pinned
              ? `REMOTE HOST KEY HAS CHANGED for ${t.host} ${t.pinned.where}; refusing to connect. ${t.pinned.ifChanged}`
              : `REMOTE HOST KEY HAS CHANGED for ${name} (${knownFiles[0]}); refusing to connect. If the host was really reinstalled, remove its old line with: ssh-keygen -R ${name} -f ${knownFiles[0]}`;
            return false;
          }
          if (t.pinned) {
            refusal = `no host key is pinned for ${t.host} ${t.pinned.where}`;
            return false;
          }
          if (t.acceptNewHostKeys) {
            addKnownHost(knownFiles[0], name, keyType(key), blob);
            return true;
          }
          refusal = `host key for ${name} is not in ${knownFiles.join(' or ')}; add it (ssh-keyscan, or connect once with ssh) or run with --accept-new-host-keys`;
          return false;
        },
      });
    } catch (e) {
      kill();
      t.onClose?.();
      const where = t.sock
        ? `ssh ${t.user}@${t.host} ${t.pinned?.where ?? ''}`.trimEnd()
        : `ssh ${t.user}@${knownHostsName(t.address, t.port)}`;
      let msg = refusal ?? (e as Error).message;
      if (!refusal && timedOut) msg = `no answer in ${timeoutMs / 1000} s`;
      if (!refusal && /authentication methods failed/i.test(msg))
        msg = `permission denied (publickey): ${identities.describe()}`;
      if (!refusal) msg = `${where}: ${msg}${t.hint ? ` (${t.hint})` : ''}`;
      throw keyRefused ? new HostKeyError(t.host, msg) : new UnreachableError(t.host, msg);
    } finally {
      clearTimeout(timer);
      t.signal?.removeEventListener('abort', abort);
    }
    // node-ssh stops listening for errors once connected: a connection that breaks later (a tunnel
    // restarted under it) must fail the command in flight, not crash the process.
    ssh.connection?.on('error', () => undefined);
    // Each task is a few small request/response exchanges: without TCP_NODELAY, Nagle's algorithm
    // meets delayed ACKs and every command waits ~40 ms for nothing.
    (t.sock as { setNoDelay?: (b: boolean) => void } | undefined)?.setNoDelay?.(true);
    ssh.connection?.setNoDelay(true);
    return new SshConnection(t.host, ssh, t.via ?? 'direct', t.user, t.onClose);
  }

  private ended(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose?.();
  }

  /** A stream to host:port as seen from this host (an SSH `direct-tcpip` channel). */
  async forward(host: string, port: number): Promise<Duplex> {
    try {
      return await this.ssh.forwardOut('127.0.0.1', 0, host, port);
    } catch (e) {
      throw new UnreachableError(
        this.host,
        `cannot open a channel to ${host}:${port} on ${this.host}: ${(e as Error).message}`,
      );
    }
  }

  async run(command: string, opts: RunOptions = {}): Promise<RunResult> {
    const line = withBecome(command, opts, this.user);
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
      client.exec(withBecome(command, opts, this.user), (err, channel) => {
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
    this.ended();
  }
}
