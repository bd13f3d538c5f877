// Host key checking against OpenSSH known_hosts files, as `ssh` does: a line applies to a host when
// its pattern list matches the host's name (`*`, `?`, `!negated`, or a hashed `|1|salt|hash` entry);
// a key on an `@revoked` line that applies is refused, whatever other lines say. A known host with a
// different key is always refused; an unknown host is refused unless accept-new. `@cert-authority`
// lines are not used (relay-play does not accept host certificates).
import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { matchesPatternList } from './patterns.js';

export interface KnownKey {
  type: string;
  key: string; // base64 blob
}

export interface HostKeys {
  /** Keys on file for the host. */
  keys: KnownKey[];
  /** Keys marked @revoked for the host, with the file that says so. */
  revoked: (KnownKey & { file: string })[];
}

/** The name OpenSSH files a host under: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Whether a known_hosts host field applies to `name`. */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  return matchesPatternList(field.split(','), name);
}

/** The keys (and revoked keys) the given known_hosts files hold for `name`; missing files are empty. */
export function lookupHostKeys(files: readonly string[], name: string): HostKeys {
  const out: HostKeys = { keys: [], revoked: [] };
  for (const file of files) {
    if (!existsSync(file)) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const fields = line.split(/\s+/);
      const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
      const [hosts, type, key] = fields;
      if (!key || !hostFieldMatches(hosts, name)) continue;
      if (marker === '@revoked') out.revoked.push({ type, key, file });
      else if (!marker) out.keys.push({ type, key });
    }
  }
  return out;
}

/** Keys of one host in one file (the first user known_hosts file, or a pinned list). */
export function keysFor(file: string, name: string): KnownKey[] {
  return lookupHostKeys([file], name).keys;
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

/**
 * The host key algorithms to ask for, given the key types on file: only those (so a host with several
 * keys is not "changed"), and an RSA key as rsa-sha2-512/256 — OpenSSH 8.8+ refuses SHA-1 `ssh-rsa`
 * signatures, as does relay-play.
 */
export function hostKeyAlgorithms(keys: readonly KnownKey[]): string[] {
  const algos = keys.flatMap((k) => (k.type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256'] : [k.type]));
  return [...new Set(algos)];
}
