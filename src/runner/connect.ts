// Open the one connection a host gets for the whole run, from its Ansible connection vars.
import { userInfo } from 'node:os';
import { LocalConnection } from '../connection/local.js';
import { SshConnection, type SshTarget } from '../connection/ssh.js';
import type { Connection } from '../connection/types.js';

export interface ConnectOptions {
  acceptNewHostKeys: boolean;
  connectTimeoutMs?: number;
}

const falsy = (v: unknown) => v === false || ['false', 'no', '0', 'off'].includes(String(v).toLowerCase());

/** `host_key_checking: false` or StrictHostKeyChecking=no|accept-new in ansible_ssh_common_args: accept new keys. */
export function acceptsNewKeys(vars: Record<string, unknown>): boolean {
  if (vars.host_key_checking !== undefined && falsy(vars.host_key_checking)) return true;
  const args = String(vars.ansible_ssh_common_args ?? '');
  return /StrictHostKeyChecking[= ](no|accept-new)/i.test(args);
}

/** Where and as whom to log in to `host`, from its Ansible connection vars. */
export function sshTarget(host: string, vars: Record<string, unknown>, opts: ConnectOptions): SshTarget {
  const keyFile = vars.ansible_ssh_private_key_file ?? vars.ansible_private_key_file;
  return {
    host,
    address: String(vars.ansible_host ?? host),
    port: Number(vars.ansible_port ?? 22),
    user: String(vars.ansible_user ?? userInfo().username),
    privateKeyPath: keyFile ? String(keyFile) : undefined,
    acceptNewHostKeys: opts.acceptNewHostKeys || acceptsNewKeys(vars),
    connectTimeoutMs: opts.connectTimeoutMs,
  };
}

export function openConnection(host: string, vars: Record<string, unknown>, opts: ConnectOptions): Promise<Connection> {
  if (vars.ansible_connection === 'local') return Promise.resolve(new LocalConnection(host));
  return SshConnection.open(sshTarget(host, vars, opts));
}
