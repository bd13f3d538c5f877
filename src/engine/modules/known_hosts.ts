// known_hosts: one host's key in a known_hosts file, as Ansible's module decides it: the entries for the
// host found as `ssh-keygen -F` finds them (patterns, negations, hashed names), the first of the key's
// type replaced when it differs, the key added when there is none; with no key, `state: absent` removes
// every entry of the host (`ssh-keygen -R`). One read (the file), one write; the key travels on stdin.
import { createHmac, randomBytes } from 'node:crypto';
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import { readOutput, type Module, type Plan } from './types.js';
import { boolArg, type BoolArg } from './lib/schema.js';
import { toBool } from '../util/bool.js';
import { writeFileStep } from './lib/files.js';

interface KnownHostsArgs {
  name?: string;
  host?: string;
  key?: string;
  path?: string;
  hash_host?: BoolArg;
  state?: 'present' | 'absent';
}

const SCRIPT = () => shFile('engine/modules/known_hosts.sh');

interface Entry {
  options?: string;
  host: string;
  type: string;
  key: string;
}

/** Ansible's normalize_known_hosts_key: marker, host field, type, key (a comment dropped). */
function entryOf(line: string): Entry | undefined {
  const k = line.trim().split(/\s+/);
  if (k[0]?.startsWith('@')) return k.length >= 4 ? { options: k[0], host: k[1], type: k[2], key: k[3] } : undefined;
  return k.length >= 3 ? { host: k[0], type: k[1], key: k[2] } : undefined;
}

const sameEntry = (a: Entry, b: Entry) =>
  a.options === b.options && a.host === b.host && a.type === b.type && a.key === b.key;

/** Does one (unhashed) pattern of a host field match `host`, as OpenSSH's match_pattern (*, ?)? */
function globMatch(pattern: string, host: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(host);
}

/** Does a line's host field name `host`, as `ssh-keygen -F host` looks it up? */
export function hostFieldMatches(field: string, host: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(host).digest('base64');
    return mac === hash;
  }
  let hit = false;
  for (const p of field.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), host)) return false;
    } else if (globMatch(p, host)) hit = true;
  }
  return hit;
}

/** Ansible's hash_host_key: the host field replaced by |1|salt|HMAC-SHA1(host). */
export function hashHostKey(host: string, key: string, salt: Buffer = randomBytes(20)): string {
  const parts = key.trim().split(/\s+/);
  const i = parts[0].startsWith('@') ? 1 : 0;
  const mac = createHmac('sha1', salt).update(host).digest('base64');
  parts[i] = `|1|${salt.toString('base64')}|${mac}`;
  return parts.join(' ');
}

/** Python's str.splitlines(keepends=True) for a text file. */
const linesKeep = (s: string): string[] => s.match(/[^\n]*\n|[^\n]+$/g) ?? [];

export const known_hosts: Module<KnownHostsArgs, 'file'> = {
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1 },
      host: { type: 'string', minLength: 1 },
      key: { type: 'string' },
      path: { type: 'string', minLength: 1 },
      hash_host: boolArg,
      state: { enum: ['present', 'absent'] },
    },
    oneOf: [{ required: ['name'] }, { required: ['host'] }],
    additionalProperties: false,
  },

  reads: (args) => ({ file: { command: shScript(SCRIPT(), [args.path ?? '~/.ssh/known_hosts']) } }),

  plan(args, ctx, read): Plan {
    const host = (args.name ?? args.host)!.toLowerCase();
    const state = args.state ?? 'present';
    const hash = toBool(args.hash_host, false);
    let key = args.key || undefined;
    if (!key && state !== 'absent')
      return { changed: false, steps: [], failed: 'No key specified when adding a host', result: {} };
    const out = readOutput(read.file, 'the known_hosts file');
    const [path, who, st, b64 = ''] = out.split('\n');
    if (st === 'other')
      return { changed: false, steps: [], failed: `Failed to read ${path}: not a regular file`, result: {} };
    const exists = st !== 'absent';
    const before = exists ? Buffer.from(b64, 'base64').toString('utf8') : '';
    // What Ansible returns of the file once written (its add_path_info): as it is, or the writer's.
    const [uid, gid, owner, group, mode, size] = (exists ? st : `${who}|644|0`).split('|');
    const pathInfo = (bytes: number) => ({
      uid: Number(uid),
      gid: Number(gid),
      owner,
      group,
      mode: mode.padStart(4, '0'),
      size: bytes,
      state: 'file',
    });

    if (key && hash) key = hashHostKey(host, key);
    if (key && !key.endsWith('\n')) key += '\n';
    if (key) {
      if (/\S+(\s+)?,(\s+)?/.test(host))
        return {
          changed: false,
          steps: [],
          failed:
            'Comma separated list of names is not supported. Please pass a single name to lookup in the known_hosts file.',
          result: {},
        };
      const given = entryOf(key);
      if (!given || !hostFieldMatches(given.host, host))
        return {
          changed: false,
          steps: [],
          failed: 'Host parameter does not match hashed host field in supplied key',
          result: {},
        };
    }

    // search_for_host_key
    let found = false;
    let replace = false;
    let foundLine: number | undefined;
    if (exists) {
      const want = key ? entryOf(key)! : undefined;
      const lines = before.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const e = entryOf(lines[i]);
        if (!e || lines[i].trim().startsWith('#') || !hostFieldMatches(e.host, host)) continue;
        found = true;
        if (!want) break;
        foundLine = i + 1;
        const w = { ...want };
        if (w.host.startsWith('|1|') && e.host.startsWith('|1|')) w.host = e.host;
        if (sameEntry(w, e)) {
          replace = false;
          break;
        }
        if (w.type === e.type) {
          replace = true;
          break;
        }
        foundLine = undefined;
        replace = true;
      }
      if (want && found && foundLine === undefined) replace = true;
    }

    // compute_diff
    const kept = linesKeep(before);
    if ((replace || state === 'absent') && foundLine !== undefined && foundLine <= kept.length)
      kept.splice(foundLine - 1, 1);
    if (state === 'present' && (replace || foundLine === undefined)) kept.push(key!);
    const after = kept.join('');
    const diff = { before_header: exists ? path : '/dev/null', after_header: path, before, after };
    const params = { name: (args.name ?? args.host)!, key: args.key ?? null, path, hash_host: hash, state, diff };

    if (state === 'absent' && foundLine === undefined && key)
      return {
        changed: false,
        steps: [],
        diff: [diff],
        result: { ...params, ...(exists ? pathInfo(Number(size)) : {}) },
      };
    const changed = replace || (state === 'present') !== found;
    if (ctx.check) return { changed, steps: [], diff: changed ? [diff] : [], result: { diff } };

    if (found && !key && state === 'absent')
      return {
        changed: true,
        steps: [
          {
            describe: `ssh-keygen -R ${host}`,
            command: shScript('ssh-keygen -R "$1" -f "$2" >/dev/null 2>&1 || exit 1; stat -L -c %s -- "$2"', [
              host,
              path,
            ]),
          },
        ],
        diff: [diff],
        result: { ...params, ...pathInfo(Buffer.byteLength(after)) },
        finish: (outputs) => ({ size: Number(outputs[0]?.stdout.trim()) }),
      };
    if (!changed)
      return { changed: false, steps: [], diff: [], result: { ...params, ...(exists ? pathInfo(Number(size)) : {}) } };
    return {
      changed: true,
      steps: [writeFileStep(path, after, {})],
      diff: [diff],
      result: { ...params, ...pathInfo(Buffer.byteLength(after)) },
    };
  },
};
