// fetch: a file of the host copied to this machine, as Ansible's fetch action does: under
// DEST/HOSTNAME/SRC, or at DEST itself with `flat`; only when its SHA-1 differs from the local copy's.
// One read (the file, base64); the local file is written once the task is applied (never in check mode,
// which Ansible's fetch skips). Returns checksum, dest, md5sum, remote_checksum, remote_md5sum, file.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import { readOutput, type Module, type Plan } from './types.js';
import { boolArg, type BoolArg } from './lib/schema.js';
import { toBool } from '../util/bool.js';

interface FetchArgs {
  src: string;
  dest: string;
  flat?: BoolArg;
  fail_on_missing?: BoolArg;
  validate_checksum?: BoolArg;
}

const SCRIPT = () => shFile('engine/modules/fetch.sh');
const hash = (algo: string, data: Buffer) => createHash(algo).update(data).digest('hex');

/** The local file's SHA-1, as Ansible's checksum(): null when it is absent or not a file. */
function localSum(path: string): string | null {
  try {
    return statSync(path).isFile() ? hash('sha1', readFileSync(path)) : null;
  } catch {
    return null;
  }
}

export const fetch: Module<FetchArgs, 'file'> = {
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', minLength: 1 },
      dest: { type: 'string', minLength: 1 },
      flat: boolArg,
      fail_on_missing: boolArg,
      validate_checksum: boolArg,
    },
    required: ['src', 'dest'],
    additionalProperties: false,
  },

  reads: (args, ctx) => (ctx.check ? {} : { file: { command: shScript(SCRIPT(), [args.src]) } }),

  plan(args, ctx, read): Plan {
    if (ctx.check)
      return { changed: false, skipped: true, steps: [], msg: 'check mode not (yet) supported for this module' };
    const failOnMissing = toBool(args.fail_on_missing, true);
    const out = readOutput(read.file, args.src);
    const nl1 = out.indexOf('\n');
    const nl2 = out.indexOf('\n', nl1 + 1);
    const source = out.slice(0, nl1);
    const kind = nl2 < 0 ? out.slice(nl1 + 1).trim() : out.slice(nl1 + 1, nl2);
    const missing = (msg: string): Plan =>
      failOnMissing
        ? { changed: false, steps: [], failed: msg, result: {} }
        : { changed: false, steps: [], msg, result: { file: source } };
    if (kind === 'directory')
      return failOnMissing
        ? {
            changed: false,
            steps: [],
            failed: 'remote file is a directory, fetch cannot work on directories',
            result: {},
          }
        : {
            changed: false,
            steps: [],
            msg: 'remote file is a directory, fetch cannot work on directories, not transferring, ignored',
            result: {},
          };
    if (kind === 'absent') return missing('the remote file does not exist, not transferring, ignored');
    if (kind === 'unreadable') return missing(`file is not readable: ${source}`);
    const data = Buffer.from(out.slice(nl2 + 1).trim(), 'base64');
    const remoteSum = hash('sha1', data);

    // Where it goes: as Ansible's path_dwim, a relative dest is the playbook's directory's.
    const dwim = (p: string) => (isAbsolute(p) ? p : join(String(ctx.evaluate('playbook_dir')), p));
    let dest: string;
    if (toBool(args.flat, false)) {
      dest = args.dest;
      if (!dest.endsWith(sep) && existsSync(dest) && statSync(dest).isDirectory())
        return {
          changed: false,
          steps: [],
          failed: 'dest is an existing directory, use a trailing slash if you want to fetch src into that directory',
          result: {},
        };
      if (dest.endsWith(sep)) dest = join(dest, basename(source));
      dest = dwim(dest);
    } else dest = `${dwim(args.dest)}/${ctx.host}/${source}`;
    dest = normalize(dest);
    if (!dest.startsWith(normalize(dwim(args.dest)).replace(/\/$/, '')))
      return {
        changed: false,
        steps: [],
        failed: `Detected directory traversal, expected to be contained in '${args.dest}' but got '${dest}'`,
        result: {},
      };

    const local = localSum(dest);
    if (local === remoteSum)
      return {
        changed: false,
        steps: [],
        result: { md5sum: hash('md5', data), file: source, dest, checksum: local },
      };
    // Written here once the task is applied: the write is this machine's, the host changes nothing.
    return {
      changed: true,
      steps: [],
      result: {},
      confirm: async () => {
        mkdirSync(dirname(dest), { recursive: true });
        writeFileSync(dest, data);
        const written = readFileSync(dest);
        const sum = hash('sha1', written);
        const fields = {
          md5sum: hash('md5', written),
          dest,
          remote_md5sum: null,
          checksum: sum,
          remote_checksum: remoteSum,
        };
        if (toBool(args.validate_checksum, true) && sum !== remoteSum)
          return { failed: 'checksum mismatch', result: { ...fields, file: source } };
        return { result: fields };
      },
    };
  },
};
