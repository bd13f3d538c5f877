// openssh_keypair: an ed25519 key pair generated ON the host. An existing private key is never
// overwritten and never read: only its metadata (stat) and the .pub file are looked at. The private
// key's content never reaches the runner — no step prints it, no result or diff contains it.
import { shFile } from '../util/sh-file.js';
import { createHash } from 'node:crypto';
import { shellJoin, shScript } from '../util/quote.js';
import type { RunResult } from '../connection/types.js';
import type { Module, Plan, Step } from './types.js';
import { attrChanges, attrDiff, attrSteps, parseFileFacts, type Attrs } from './lib/files.js';
import { attrProps, modeString, unsafeWritesArg, fileWriteRefused } from './lib/schema.js';
import { fieldsDiff } from './lib/state-diff.js';

interface KeypairArgs {
  path: string;
  type?: 'ed25519';
  comment?: string;
  owner?: string;
  group?: string;
  mode?: string | number;
}

// $1 private key path. One stat for the key and its .pub when both are there (the .pub's first line is
// read: it is public); builtins where they do (the directory by ${p%/*}, the line by read): this runs
// on every apply.
const SCRIPT = () => shFile('engine/modules/openssh_keypair/read.sh');

// Print the public key after a step (what finish() reads).
const READ_BACK = 'head -n 1 -- "$1.pub"';

// Refuses to run over an existing file (a second guard: the plan already saw none).
const GENERATE = () => shFile('engine/modules/openssh_keypair/generate.sh');

// The .pub of an existing key, derived on the host, written atomically.
const DERIVE_PUB = () => shFile('engine/modules/openssh_keypair/derive-pub.sh');

function parseHead(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** What `ssh-keygen -l` shows: SHA256 of the key blob, base64 without padding. */
const fingerprintOf = (blob: string) =>
  blob ? `SHA256:${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}` : '';

/** "ssh-ed25519 AAAA... comment" → its parts. */
function splitPub(line: string): { type: string; blob: string; comment: string } {
  const [type = '', blob = '', ...rest] = line.trim().split(/\s+/);
  return { type, blob, comment: rest.join(' ') };
}

/** Results from the read-back output of the last step. */
function readBack(outputs: RunResult[]): Record<string, unknown> {
  const out = outputs[outputs.length - 1]?.stdout ?? '';
  const pub = splitPub(out.split('\n')[0] ?? '');
  return {
    public_key: pub.blob ? `${pub.type} ${pub.blob}` : '',
    fingerprint: fingerprintOf(pub.blob),
    comment: pub.comment,
  };
}

/** ssh-keygen has no `--`: keep a relative path from looking like an option. */
const keyPath = (args: KeypairArgs) => (args.path.startsWith('-') ? `./${args.path}` : args.path);

export const openssh_keypair: Module<KeypairArgs, 'key'> = {
  refused: {
    ...fileWriteRefused,
    ...Object.fromEntries(
      ['backend', 'force', 'passphrase', 'private_key_format', 'regenerate', 'size', 'state'].map((k) => [
        k,
        'not yet supported',
      ]),
    ),
    ...Object.fromEntries(['rsa', 'dsa', 'rsa1', 'ecdsa'].map((t) => [`type=${t}`, 'ed25519 keys only'])),
  },
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1 },
      type: { enum: ['ed25519'] },
      comment: { type: 'string', pattern: '^[^\\n]*$' },
      unsafe_writes: unsafeWritesArg,
      ...attrProps,
    },
    required: ['path'],
    additionalProperties: false,
  },

  reads: (args) => ({ key: { command: shScript(SCRIPT(), [keyPath(args)]) } }),

  plan(args, _ctx, read): Plan {
    const path = keyPath(args);
    const want: Attrs = { owner: args.owner, group: args.group, mode: modeString(args.mode) ?? '0600' };
    const base = { filename: args.path, type: 'ed25519', size: 256 };
    // Ansible's default type is rsa; silently making another kind of key would differ from it.
    if (args.type === undefined)
      return {
        changed: false,
        steps: [],
        failed:
          "type not given: Ansible's default is rsa (4096 bits), and relay-play makes ed25519 keys only: write type: ed25519",
      };
    // A mode given applies to the public key too, as Ansible's; without one it stays ssh-keygen's 0644.
    const pubWant: Attrs = {
      owner: want.owner,
      group: want.group,
      ...(args.mode !== undefined && { mode: want.mode }),
    };

    const r = read.key;
    if (r.code !== 0) throw new Error(`cannot inspect ${args.path}: ${r.stderr.trim() || `exit ${r.code}`}`);
    const h = parseHead(r.stdout);
    const key = parseFileFacts(h.key ?? 'absent');
    const owners: Attrs = { owner: want.owner, group: want.group };
    const chownBoth = (p: string) => attrSteps(p, owners); // owner/group only: at most one chown

    if (!key.exists) {
      const steps: Step[] = [];
      const dir = path.includes('/') ? path.replace(/\/[^/]*$/, '') || '/' : '.';
      if (h.dir !== 'yes') {
        steps.push(
          { describe: `mkdir -m 0700 ${dir}`, command: shScript('mkdir -p -m 0700 -- "$1"', [dir]) },
          ...chownBoth(dir),
        );
      }
      // No comment given: an empty one, as Ansible's (not ssh-keygen's user@host).
      const comment = args.comment ?? '';
      steps.push({
        describe: `ssh-keygen -q -t ed25519 -N '' -C ${shellJoin([comment])} -f ${args.path}`,
        command: shScript(GENERATE(), [path, comment]),
      });
      const pubMode = pubWant.mode ?? '0644';
      steps.push({
        describe: `chmod ${pubMode} ${args.path}.pub`,
        command: shScript('chmod "$2" -- "$1.pub"', [path, pubMode]),
      });
      if (want.mode !== '0600') steps.push(...attrSteps(path, { mode: want.mode }));
      steps.push(...chownBoth(path), ...chownBoth(`${path}.pub`));
      steps.push({ describe: `read ${args.path}.pub`, command: shScript(READ_BACK, [path]) });
      return {
        changed: true,
        steps,
        diff: [fieldsDiff(args.path, { state: 'absent' }, { state: 'present', type: 'ed25519', comment })!],
        result: { ...base, public_key: '', fingerprint: '', comment: args.comment ?? '' },
        finish: (outputs) => readBack(outputs),
      };
    }

    if (key.type !== 'file')
      return {
        changed: false,
        steps: [],
        failed: `${args.path} exists and is not a regular file (${key.type})`,
        result: base,
      };

    const steps: Step[] = [];
    const diff = [];
    const pubRead = h.pub !== undefined ? splitPub(h.pub) : undefined;
    const pub = pubRead?.blob ? pubRead : undefined; // an empty .pub is derived again like a missing one
    if (pub && pub.type !== 'ssh-ed25519') {
      return {
        changed: false,
        steps: [],
        failed: `${args.path} holds a ${pub.type || 'unknown'} key, not ed25519; refusing to overwrite it`,
        result: base,
      };
    }
    const keyChanges = attrChanges(key, want);
    steps.push(...attrSteps(path, keyChanges));
    const ad = attrDiff(args.path, key, keyChanges);
    if (ad) diff.push(ad);

    if (!pub) {
      // The .pub is missing: derive it on the host from the private key (never read here).
      steps.push({
        describe: `ssh-keygen -y -f ${args.path} > ${args.path}.pub`,
        command: shScript(DERIVE_PUB(), [path]),
      });
      steps.push(...chownBoth(`${path}.pub`));
      steps.push({ describe: `read ${args.path}.pub`, command: shScript(READ_BACK, [path]) });
      diff.push(fieldsDiff(`${args.path}.pub`, { state: 'absent' }, { state: 'present' })!);
      return {
        changed: true,
        steps,
        diff,
        result: { ...base, public_key: '', fingerprint: '', comment: '' },
        finish: (outputs) => readBack(outputs),
      };
    }

    const pubFacts = parseFileFacts(h.pubstat ?? 'absent');
    const pubChanges = attrChanges(pubFacts, pubWant);
    steps.push(...attrSteps(`${path}.pub`, pubChanges));
    const pd = attrDiff(`${args.path}.pub`, pubFacts, pubChanges);
    if (pd) diff.push(pd);
    const result = {
      ...base,
      public_key: `${pub.type} ${pub.blob}`,
      fingerprint: fingerprintOf(pub.blob),
      comment: pub.comment,
    };
    return { changed: steps.length > 0, steps, diff, result };
  },
};
