// Which keys a login offers, in the order `ssh` offers them (OpenSSH's pubkey_prepare): the agent's
// keys first, in the agent's order (with IdentitiesOnly only those that are one of the identity files),
// then the identity files the agent does not hold. The identity files are the explicit ones
// (ansible_ssh_private_key_file, -i, IdentityFile), else ~/.ssh/id_ed25519, id_ecdsa and id_rsa, those
// that exist.
//
// All of them are offered through one ssh2 "agent" (Identities below): ssh2 then asks the server about
// each public key and wants a signature only for one it accepts. So an encrypted key file is unlocked
// only when the host would take it — on a terminal by asking its passphrase once per run, else the
// login fails naming the key and how to hand it to an agent. A passphrase lives in this process's
// memory only, as the decrypted key; it is never printed or logged.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2, { type ParsedKey, type SignCallback, type SigningRequestOptions } from 'ssh2';
import { keyType } from './known-hosts.js';
import { askHidden, canAsk } from './passphrase.js';

// ssh2 is CommonJS: its classes come off the default export.
const { BaseAgent, OpenSSHAgent, utils } = ssh2;

export const DEFAULT_IDENTITY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** The identity files to offer: the explicit ones if any, else the default keys that exist. */
export function identityFiles(explicit: readonly string[], home = homedir()): string[] {
  if (explicit.length) return [...new Set(explicit)];
  return DEFAULT_IDENTITY_FILES.map((f) => join(home, '.ssh', f)).filter((f) => existsSync(f));
}

export type Identity =
  /** A key the agent holds; `file` when it is one of the identity files. */
  | { source: 'agent'; blob: string; file?: string }
  /** An identity file the agent does not hold; `blob` is its public key (base64 wire format). */
  | { source: 'file'; file: string; blob: string };

/** The order keys are offered in (pure: agent keys and file public keys as base64 blobs). */
export function orderIdentities(
  agentBlobs: readonly string[],
  files: readonly { file: string; blob: string }[],
  identitiesOnly: boolean,
): Identity[] {
  const out: Identity[] = [];
  const remaining = [...files];
  for (const blob of new Set(agentBlobs)) {
    const i = remaining.findIndex((f) => f.blob === blob);
    if (i >= 0) out.push({ source: 'agent', blob, file: remaining.splice(i, 1)[0].file });
    else if (!identitiesOnly) out.push({ source: 'agent', blob });
  }
  for (const f of remaining)
    if (!out.some((o) => o.blob === f.blob)) out.push({ source: 'file', file: f.file, blob: f.blob });
  return out;
}

/** The public half of a private key file: from the key itself, else its .pub, else an OpenSSH key's clear header. */
export function publicBlobOf(file: string): { blob?: string; problem?: string } {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    return {
      problem:
        (e as NodeJS.ErrnoException).code === 'ENOENT'
          ? `${file} does not exist`
          : `${file} cannot be read (${(e as Error).message})`,
    };
  }
  const key = utils.parseKey(data);
  if (!(key instanceof Error)) return { blob: (Array.isArray(key) ? key[0] : key).getPublicSSH().toString('base64') };
  try {
    const pub = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/)[1];
    if (pub) return { blob: pub };
  } catch {
    /* no .pub beside it */
  }
  const blob = openSshPublicBlob(data.toString('utf8'));
  return blob ? { blob } : { problem: `${file} is not a private key relay-play can read (${key.message})` };
}

/** The first public key of an `openssh-key-v1` file, stored unencrypted before the (maybe encrypted) private part. */
function openSshPublicBlob(text: string): string | undefined {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!m) return undefined;
  const b = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (b.subarray(0, magic.length).toString('latin1') !== magic) return undefined;
  let p = magic.length;
  const str = () => {
    const len = b.readUInt32BE(p);
    const s = b.subarray(p + 4, p + 4 + len);
    p += 4 + len;
    return s;
  };
  str(); // cipher
  str(); // kdf
  str(); // kdf options
  if (b.readUInt32BE(p) < 1) return undefined;
  p += 4;
  return str().toString('base64');
}

/** Thrown (as the login's error) when the host accepts an encrypted key this run cannot unlock. */
export class LockedKeyError extends Error {}

// Once per run: the agent's keys per socket, and each unlocked key file.
const agentKeyCache = new Map<string, Promise<ParsedKey[]>>();
const unlocked = new Map<string, Promise<ParsedKey>>();
/** Key files whose unlocking has settled (no question pending). */
const settled = new Set<string>();

function agentKeys(sock: string): Promise<ParsedKey[]> {
  let keys = agentKeyCache.get(sock);
  if (!keys) {
    // An agent that is gone or broken is no agent: its keys are simply not offered.
    keys = new Promise((resolve) =>
      new OpenSSHAgent(sock).getIdentities((err, list) => resolve(err ? [] : ((list ?? []) as ParsedKey[]))),
    );
    agentKeyCache.set(sock, keys);
  }
  return keys;
}

const blobOf = (k: ParsedKey) => k.getPublicSSH().toString('base64');

function lockedHint(file: string, asked: boolean): string {
  return asked
    ? `could not unlock ${file} (wrong passphrase); add it to your agent with: ssh-add ${file}`
    : `${file} is encrypted (it has a passphrase) and no agent holds it; add it to your agent with: ssh-add ${file} (start one with: eval "$(ssh-agent)"), or run relay-play on a terminal to be asked for the passphrase`;
}

const encrypted = (e: Error) => /encrypted|passphrase/i.test(e.message);

/**
 * The private key of `file`, asking for its passphrase on the terminal (at most 3 tries, once per run).
 * `waiting` is told while the caller waits for a question to be answered (here or for another host).
 */
function unlock(file: string, waiting?: (yes: boolean) => void): Promise<ParsedKey> {
  let key = unlocked.get(file);
  if (!key) {
    key = (async () => {
      const data = readFileSync(file);
      const plain = utils.parseKey(data);
      if (!(plain instanceof Error)) return Array.isArray(plain) ? plain[0] : plain;
      if (!encrypted(plain) || !canAsk())
        throw new LockedKeyError(encrypted(plain) ? lockedHint(file, false) : `${file}: ${plain.message}`);
      for (let i = 0; i < 3; i++) {
        const passphrase = await askHidden(`Enter passphrase for key '${file}': `);
        if (passphrase === undefined) break;
        const k = utils.parseKey(data, passphrase);
        if (!(k instanceof Error)) return Array.isArray(k) ? k[0] : k;
      }
      throw new LockedKeyError(lockedHint(file, true));
    })().finally(() => settled.add(file));
    unlocked.set(file, key);
  }
  if (settled.has(file) || !waiting) return key;
  waiting(true);
  return key.finally(() => waiting(false));
}

/**
 * On a terminal, before any host is contacted (and before progress output takes the screen): ask for
 * the passphrase of each encrypted identity file that no agent holds, once. A key that stays locked is
 * reported by the login that needs it.
 */
export async function unlockAhead(logins: readonly { files: readonly string[]; agent?: string }[]): Promise<void> {
  if (!canAsk()) return;
  const done = new Set<string>();
  for (const { files, agent } of logins) {
    const held = new Set((agent ? await agentKeys(agent) : []).map(blobOf));
    for (const file of files) {
      if (done.has(file)) continue;
      done.add(file);
      let parsed: ReturnType<typeof utils.parseKey>;
      try {
        parsed = utils.parseKey(readFileSync(file));
      } catch {
        continue;
      }
      if (!(parsed instanceof Error) || !encrypted(parsed)) continue;
      const { blob } = publicBlobOf(file);
      if (blob && held.has(blob)) continue;
      await unlock(file).catch(() => undefined);
    }
  }
}

export interface IdentityOptions {
  /** Identity files (identityFiles() above). */
  files: string[];
  identitiesOnly: boolean;
  /** The agent's socket; undefined for none. */
  agent?: string;
  /** Told while this login waits for a passphrase to be typed (its timeout should not run meanwhile). */
  onPrompt?: (waiting: boolean) => void;
}

/** The keys one login offers, as an ssh2 agent (see the top of this file). */
export class Identities extends BaseAgent<ParsedKey> {
  private plan: Identity[] = [];
  /** Identity files that could not be offered, and why. */
  readonly problems: string[] = [];

  constructor(private readonly opts: IdentityOptions) {
    super();
  }

  getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    const files: { file: string; blob: string }[] = [];
    for (const file of this.opts.files) {
      const { blob, problem } = publicBlobOf(file);
      if (blob) files.push({ file, blob });
      else if (problem) this.problems.push(problem);
    }
    (this.opts.agent ? agentKeys(this.opts.agent) : Promise.resolve([])).then((held) => {
      this.plan = orderIdentities(held.map(blobOf), files, this.opts.identitiesOnly);
      const keys = this.plan.map(
        (id) =>
          held.find((k) => blobOf(k) === id.blob) ??
          utils.parseKey(`${keyType(Buffer.from(id.blob, 'base64'))} ${id.blob}`),
      );
      cb(
        undefined,
        keys.filter((k): k is ParsedKey => !(k instanceof Error)),
      );
    }, cb);
  }

  sign(pubKey: ParsedKey, data: Buffer, options: SigningRequestOptions | SignCallback, cb?: SignCallback): void {
    const done = (typeof options === 'function' ? options : cb)!;
    const opts = typeof options === 'function' ? {} : options;
    const id = this.plan.find((i) => i.blob === blobOf(pubKey));
    if (!id) return done(new Error('asked to sign with a key that was not offered'));
    if (id.source === 'agent') return void new OpenSSHAgent(this.opts.agent!).sign(pubKey, data, opts, done);
    unlock(id.file, this.opts.onPrompt).then(
      (key) => {
        const sig = key.sign(data, opts.hash);
        if (sig instanceof Error) done(sig);
        else done(undefined, sig);
      },
      (e: Error) => done(e),
    );
  }

  /** What was offered, for a failed login's message. */
  describe(): string {
    const agentOnly = this.plan.filter((i) => i.source === 'agent' && !i.file).length;
    const files = this.plan.flatMap((i) => (i.file ? [i.file] : []));
    const parts = [...(agentOnly ? [`${agentOnly} key${agentOnly > 1 ? 's' : ''} from the agent`] : []), ...files];
    if (parts.length) return [`offered ${parts.join(', ')}`, ...this.problems].join('; ');
    const why = [
      this.opts.agent ? 'the agent holds no key' : 'no agent (SSH_AUTH_SOCK is not set)',
      ...(this.opts.files.length
        ? this.problems
        : [`no identity file applies and none of ~/.ssh/${DEFAULT_IDENTITY_FILES.join(', ')} exists`]),
    ];
    return `no key to offer (${why.join('; ')})`;
  }
}
