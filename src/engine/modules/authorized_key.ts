// authorized_key: keys in a user's authorized_keys. One read: the user's passwd entry and primary
// group, then the file's directory and the file (stat + content). Keys are identified by their blob;
// lines this task does not manage are kept byte for byte (unless exclusive).
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import { readOutput, type FileDiff, type Module, type Plan, type Step } from './types.js';
import { attrChanges, attrDiff, attrSteps, parseFileFacts, type Attrs } from './lib/files.js';
import { boolArg, type BoolArg } from './lib/schema.js';
import { toBool } from '../util/bool.js';
import { formatKey, normOptions, parseKeyLine, sameKey, type PublicKey } from './lib/ssh-keys.js';
import { planText, splitLines, type TextFile } from './lib/text-file.js';
import { USER_NAME } from './user.js';

interface AuthorizedKeyArgs {
  user: string;
  key: string;
  key_options?: string;
  comment?: string;
  state?: 'present' | 'absent';
  exclusive?: BoolArg;
  path?: string;
  manage_dir?: BoolArg;
}

// $1 user, $2 path ('' = ~user/.ssh/authorized_keys; a leading ~/ is the user's home).
const SCRIPT = () => shFile('engine/modules/authorized_key.sh');

export const authorized_key: Module<AuthorizedKeyArgs, 'keys'> = {
  refused: {
    follow: 'not yet supported',
    validate_certs: 'for a key from a URL, not yet supported',
  },
  schema: {
    type: 'object',
    properties: {
      user: { type: 'string', pattern: USER_NAME, maxLength: 32 },
      key: { type: 'string' },
      key_options: { type: 'string' },
      comment: { type: 'string' },
      state: { enum: ['present', 'absent'] },
      exclusive: boolArg,
      path: { type: 'string', minLength: 1 },
      manage_dir: boolArg,
    },
    required: ['user', 'key'],
    additionalProperties: false,
  },

  // The account, its authorized_keys (its content) and the directory holding it, in one read.
  // A user name the plan refuses is not even read.
  reads: (args) =>
    new RegExp(USER_NAME).test(args.user)
      ? { keys: { command: shScript(SCRIPT(), [args.user, args.path ?? '']) } }
      : {},

  plan(args, ctx, read): Plan {
    const { user } = args;
    if (!new RegExp(USER_NAME).test(user))
      return { changed: false, steps: [], failed: `invalid user name ${JSON.stringify(user)}` };
    if (/^https?:\/\//.test(args.key.trim()))
      return { changed: false, steps: [], failed: 'fetching keys from a URL is not supported: give the key text' };
    const present = (args.state ?? 'present') === 'present';
    const exclusive = present && toBool(args.exclusive, false);
    const manageDir = toBool(args.manage_dir, true);

    // The keys asked for, as they should be written.
    const wanted: PublicKey[] = [];
    for (const line of args.key.split('\n')) {
      if (!line.trim() || line.trim().startsWith('#')) continue;
      const k = parseKeyLine(line);
      if (!k) return { changed: false, steps: [], failed: `invalid key specified: ${line.trim().slice(0, 60)}` };
      const options = args.key_options !== undefined ? normOptions(args.key_options) : normOptions(k.options);
      const want = { ...k, options, comment: args.comment ?? k.comment };
      const dup = wanted.findIndex((w) => w.blob === k.blob);
      if (dup >= 0) wanted[dup] = want;
      else wanted.push(want);
    }
    // As Ansible's: every argument, defaults filled in.
    const result: Record<string, unknown> = {
      user,
      key: args.key,
      key_options: args.key_options ?? null,
      state: present ? 'present' : 'absent',
      exclusive,
      comment: args.comment ?? null,
      path: args.path ?? null,
      manage_dir: manageDir,
      follow: false,
      validate_certs: true,
    };

    const found = readOutput(read.keys, `authorized_keys of ${user}`);
    if (found.startsWith('nouser')) {
      // In check mode an earlier task (user:) may be what creates the account.
      if (ctx.check && present)
        return { changed: true, steps: [], msg: `user ${user} does not exist yet (check mode)`, result };
      return {
        changed: false,
        steps: [],
        failed: `Failed to lookup user ${user}: "getpwnam(): name not found: '${user}'"`,
        result: {},
      };
    }
    const sep = found.indexOf('\n--\n');
    const head: Record<string, string> = {};
    for (const l of found.slice(0, sep).split('\n')) {
      const i = l.indexOf('=');
      if (i > 0) head[l.slice(0, i)] = l.slice(i + 1);
    }
    const path = Buffer.from(head.path ?? '', 'base64').toString('utf8');
    const dir = path.includes('/') ? path.replace(/\/[^/]*$/, '') || '/' : '.';
    const facts = parseFileFacts(found.slice(sep + 4));
    if (facts.type === 'file' && facts.content === undefined) facts.content = '';
    const group = head.group;
    const dirFacts = parseFileFacts(head.dir ?? 'absent');
    Object.assign(result, { keyfile: path });

    if (facts.exists && facts.type !== 'file')
      return { changed: false, steps: [], failed: `${path} is a ${facts.type}, not a regular file`, result };
    if (!facts.exists && (!present || !wanted.length)) return { changed: false, steps: [], result };
    if (!manageDir && !dirFacts.exists && !ctx.check)
      return { changed: false, steps: [], failed: `${dir} does not exist (manage_dir is false)`, result };

    // The .ssh directory: 0700, owned by the user (as Ansible's manage_dir).
    const pre: Step[] = [];
    const diff: FileDiff[] = [];
    if (manageDir && present) {
      const dirWant: Attrs = { owner: user, group, mode: '0700' };
      if (!dirFacts.exists) {
        pre.push(
          { describe: `mkdir ${dir}`, command: shScript('mkdir -m 0700 -- "$1"', [dir]) },
          ...attrSteps(dir, { owner: user, group }),
        );
        diff.push({
          before_header: dir,
          after_header: dir,
          before: 'state: absent\n',
          after: `state: directory\nowner: ${user}\ngroup: ${group}\nmode: 0700\n`,
        });
      } else if (dirFacts.type !== 'directory') {
        return { changed: false, steps: [], failed: `${dir} exists and is not a directory`, result };
      } else {
        const ch = attrChanges(dirFacts, dirWant);
        pre.push(...attrSteps(dir, ch));
        const ad = attrDiff(dir, dirFacts, ch);
        if (ad) diff.push(ad);
      }
    }

    const lines = splitLines(facts.content ?? '');
    const byBlob = new Map(wanted.map((w) => [w.blob, w]));
    const out: string[] = [];
    const seen = new Set<string>();
    for (const line of lines) {
      const k = parseKeyLine(line);
      const w = k && byBlob.get(k.blob);
      if (!w) {
        if (!exclusive) out.push(line);
        continue;
      }
      if (!present || seen.has(w.blob)) continue; // removed, or a duplicate of a managed key
      seen.add(w.blob);
      out.push(sameKey(k!, w) ? line : `${formatKey(w)}\n`);
    }
    if (present) {
      const missing = wanted.filter((w) => !seen.has(w.blob));
      if (missing.length && out.length && !out[out.length - 1].endsWith('\n')) out[out.length - 1] += '\n';
      out.push(...missing.map((w) => `${formatKey(w)}\n`));
    }
    const after = out.join('');
    // A `path` given: Ansible reports the file as it is left (its path info, with `state: file`).
    if (args.path !== undefined) {
      const [uid, gid] = (head.ids ?? '').split(':').map(Number);
      const size = Buffer.byteLength(facts.exists && after === facts.content ? facts.content : after);
      Object.assign(result, { owner: user, group, uid, gid, mode: '0600', size, state: 'file' });
    }
    const file: TextFile = { real: path, parentExists: true, facts };
    const want: Attrs = { owner: user, group, mode: '0600' };
    return planText({
      path,
      file,
      after: facts.exists && after === facts.content ? undefined : after,
      want,
      before: pre,
      diff,
      result,
    });
  },
};
