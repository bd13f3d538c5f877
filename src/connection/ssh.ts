// One SSH connection per host (node-ssh / ssh2), reused for every task; each command is one exec channel.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NodeSSH } from 'node-ssh';
import { UnreachableError } from '../errors.js';
import { withBecome } from './become.js';
import { addKnownHost, keysFor, keyType, knownHostsName } from './known-hosts.js';
import type { Connection, Held, RunOptions, RunResult } from './types.js';

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
}

export class SshConnection implements Connection {
  private constructor(
    readonly host: string,
    private readonly ssh: NodeSSH,
  ) {}

  static async open(t: SshTarget): Promise<SshConnection> {
    const knownHosts = t.knownHostsFile ?? join(homedir(), '.ssh', 'known_hosts');
    const name = knownHostsName(t.address, t.port);
    const known = keysFor(knownHosts, name);
    let refusal: string | undefined;

    const ssh = new NodeSSH();
    try {
      await ssh.connect({
        host: t.address,
        port: t.port,
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
            refusal = `REMOTE HOST KEY HAS CHANGED for ${name} (${knownHosts}); refusing to connect. If the host was really reinstalled, remove its old line with: ssh-keygen -R ${name} -f ${knownHosts}`;
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
      throw new UnreachableError(t.host, refusal ?? `ssh ${t.user}@${name}: ${(e as Error).message}`);
    }
    // Each task is a few small request/response exchanges: without TCP_NODELAY, Nagle's algorithm
    // meets delayed ACKs and every command waits ~40 ms for nothing.
    ssh.connection?.setNoDelay(true);
    return new SshConnection(t.host, ssh);
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
