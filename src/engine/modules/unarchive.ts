// unarchive: a tar archive (plain, gzip, bzip2, xz, zstd) unpacked on the host by GNU tar, as Ansible's
// module does it: the archive listed, `tar --diff` to tell whether it is unpacked already (the lines
// Ansible counts), extracted only then, owner, group and mode set on every file of it. A local archive
// travels base64 on stdin to where Ansible's action plugin would put it; `remote_src` takes the host's.
// One trip (unarchive.sh). As Ansible's, a tar archive is not unpacked in check mode (skipped).
import { readFileSync, statSync } from 'node:fs';
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import { toBool } from '../util/bool.js';
import type { RunResult } from '../connection/types.js';
import type { Module, Plan } from './types.js';
import { attrProps, boolArg, modeString, type BoolArg, unsafeWritesArg, fileWriteRefused } from './lib/schema.js';
import { keyValues, pathInfo } from './lib/http.js';

export interface UnarchiveArgs {
  src: string;
  dest: string;
  remote_src?: BoolArg;
  copy?: BoolArg;
  creates?: string;
  list_files?: BoolArg;
  keep_newer?: BoolArg;
  exclude?: string | string[];
  include?: string | string[];
  extra_opts?: string | string[];
  owner?: string;
  group?: string;
  mode?: string | number;
}

const SCRIPT = () => shFile('engine/modules/unarchive.sh');
const listArg = { type: ['array', 'string'], items: { type: 'string' } };
/** A list argument: a list, or Ansible's comma-separated string. */
const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : v.split(',').map((s) => s.trim());

const fromB64 = (v: string | undefined) => Buffer.from(v ?? '', 'base64').toString('utf8');

export const unarchive: Module<UnarchiveArgs, 'creates'> = {
  refused: {
    ...fileWriteRefused,
    validate_certs: 'for a URL src, not yet supported',
  },
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', minLength: 1 },
      dest: { type: 'string', minLength: 1 },
      remote_src: boolArg,
      unsafe_writes: unsafeWritesArg,
      // Taken and ignored: relay-play has no vault; the host's tar needs no Python buffer size.
      decrypt: boolArg,
      io_buffer_size: { type: 'integer' },
      copy: boolArg,
      creates: { type: 'string', minLength: 1 },
      list_files: boolArg,
      keep_newer: boolArg,
      exclude: listArg,
      include: listArg,
      extra_opts: listArg,
      ...attrProps,
    },
    required: ['src', 'dest'],
    additionalProperties: false,
  },

  reads: (args) =>
    args.creates
      ? { creates: { command: shScript('if [ -e "$1" ]; then echo yes; else echo no; fi', [args.creates]) } }
      : {},

  plan(args, ctx, facts): Plan {
    const fail = (msg: string, result: Record<string, unknown> = {}): Plan => ({
      changed: false,
      steps: [],
      failed: msg,
      result,
    });
    // As Ansible's action plugin, before anything else.
    if (args.creates && facts.creates?.stdout.trim() === 'yes')
      return { changed: false, skipped: true, steps: [], msg: `skipped, since ${args.creates} exists` };
    if (args.copy !== undefined && args.remote_src !== undefined)
      return fail('parameters are mutually exclusive: copy|remote_src');
    const remote = args.remote_src !== undefined ? toBool(args.remote_src, false) : !toBool(args.copy, true);
    const exclude = list(args.exclude);
    const include = list(args.include);
    if (exclude.length && include.length) return fail('parameters are mutually exclusive: include|exclude');
    let mode: string | undefined;
    try {
      mode = modeString(args.mode);
    } catch (e) {
      return fail((e as Error).message);
    }
    if (ctx.check)
      return {
        changed: false,
        skipped: true,
        steps: [],
        msg: 'remote module (ansible.legacy.unarchive) does not support check mode when using gtar',
      };

    let stdin: string | undefined;
    if (!remote) {
      if (args.src.includes('://')) return fail('relay-play unarchives a URL only with remote_src: true');
      const local = ctx.resolveLocal(args.src, 'files');
      try {
        if (!statSync(local).isFile()) throw new Error();
        stdin = readFileSync(local).toString('base64');
      } catch {
        return fail(`Could not find or access '${args.src}' on the Ansible Controller.`);
      }
    } else if (args.src.includes('://'))
      return fail('relay-play does not download archives in unarchive yet: get_url it first');
    const extra = list(args.extra_opts);
    return {
      changed: false,
      steps: [
        {
          describe: `unpack ${args.src} in ${args.dest}`,
          command: shScript(SCRIPT(), [
            remote ? args.src : '-',
            args.dest,
            '',
            toBool(args.keep_newer, false) ? 'yes' : '',
            args.owner ?? '',
            args.group ?? '',
            mode ?? '',
            extra.length,
            ...extra,
            exclude.length,
            ...exclude,
            include.length,
            ...include,
          ]),
          ...(stdin !== undefined ? { stdin } : {}),
        },
      ],
      acceptNonZero: true,
      finish: (outputs: RunResult[]) => unarchiveResult(args, outputs[0]),
    };
  },
};

/** The registered result, from what unarchive.sh printed. */
export function unarchiveResult(args: UnarchiveArgs, out: RunResult | undefined): Record<string, unknown> {
  if (!out || out.code !== 0)
    return { failed: true, changed: false, msg: out?.stderr.trim() || 'unarchive did not run on the host' };
  const kv = keyValues(out.stdout);
  const src = kv.src ?? args.src;
  const failed = (msg: string, more: Record<string, unknown> = {}) => ({ changed: false, failed: true, msg, ...more });
  switch (kv.step) {
    case 'dest_not_dir':
      // The action plugin's words, and the empty traceback it sends along.
      return failed(`dest '${args.dest}' must be an existing dir`, { exception: 'NoneType: None\n' });
    case 'upload_failed':
      return failed(`Source '${src}' failed to transfer`);
    case 'src_absent':
      return failed(`Source '${src}' does not exist`);
    case 'src_unreadable':
      return failed(`Source '${src}' not readable`);
    case 'src_empty':
      return failed(`Invalid archive '${src}', the file is 0 bytes`);
    case 'zip':
      return failed(`${src} is a zip archive: relay-play unpacks tar archives only, not yet zip`);
    case 'not_gnu':
    case 'no_handler': {
      // Each handler's reason once, in the handlers' order (Ansible's come from a set: any order).
      const reasons = [...new Set((kv.reasons ?? '').split(' ').filter(Boolean).map(fromB64))];
      return failed(
        `Failed to find handler for "${src}". Make sure the required command to extract the file is installed.\n${reasons.join('\n')}`,
      );
    }
  }
  const info = pathInfo(/^pathinfo=(.*)$/m.exec(out.stdout)?.[1]);
  const result: Record<string, unknown> = { handler: kv.handler, dest: args.dest, src, ...info };
  let changed = kv.attrs === 'changed';
  if (kv.extract_rc !== undefined) {
    const cmd = [...out.stdout.matchAll(/^cmd=(.*)$/gm)].map((m) => fromB64(m[1]));
    result.extract_results = {
      cmd,
      rc: Number(kv.extract_rc),
      out: fromB64(kv.extract_out),
      err: fromB64(kv.extract_err),
    };
    if (Number(kv.extract_rc) !== 0) return failed(`failed to unpack ${src} to ${args.dest}`, result);
    changed = true;
  }
  result.changed = changed;
  if (toBool(args.list_files, false)) result.files = fromB64(kv.files).split('\n').filter(Boolean);
  return result;
}
