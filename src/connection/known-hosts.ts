// Host key checking against an OpenSSH known_hosts file, as `ssh` does:
// a known host with a different key is always refused; an unknown host is refused unless accept-new.
import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KnownKey {
  type: string;
  key: string; // base64 blob
}

/** The name OpenSSH files a host under: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function hostMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  return pattern.split(',').some((p) => p === name);
}

export function keysFor(file: string, name: string): KnownKey[] {
  if (!existsSync(file)) return [];
  const keys: KnownKey[] = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    if (fields[0].startsWith('@')) continue; // @cert-authority / @revoked: not supported, ignore
    const [hosts, type, key] = fields;
    if (key && hostMatches(hosts, name)) keys.push({ type, key });
  }
  return keys;
}

export function addKnownHost(file: string, name: string, type: string, key: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  appendFileSync(file, `${name} ${type} ${key}\n`, { mode: 0o600 });
}

/** SSH wire format: string type, then the key data; the type is the first field. */
export function keyType(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}
