// get_url: a file downloaded on the host by curl (or wget), as Ansible's module does it — into dest (or a
// directory, named by the server or the URL), only when it differs (If-Modified-Since for an existing
// file, unless force), checked against a checksum (sha256:HEX, or a URL to a checksum file), owner,
// group and mode set. One trip: the whole decision runs on the host (get_url.sh); URL, headers and
// credentials reach curl on its stdin. Check mode asks with HEAD, as Ansible's does, and changes nothing.
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import { toBool } from '../util/bool.js';
import type { RunResult } from '../connection/types.js';
import type { Module, Plan } from './types.js';
import { attrProps, boolArg, modeString, type BoolArg, unsafeWritesArg, fileWriteRefused } from './lib/schema.js';
import {
  answerMessage,
  requestConfig,
  failureMessage,
  keyValues,
  noTool,
  pathInfo,
  requestProblem,
  responseOf,
  urlArgProps,
  urlFilename,
  type UrlArgs,
} from './lib/http.js';

export interface GetUrlArgs extends UrlArgs {
  dest: string;
  backup?: BoolArg;
  checksum?: string;
  tmp_dest?: string;
  owner?: string;
  group?: string;
  mode?: string | number;
  thirsty?: BoolArg;
  username?: string;
  password?: string;
}

const SCRIPT = () => shFile('engine/modules/get_url.sh');

/** The algorithms the host's coreutils hash with (NAMEsum). */
export const ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];

/** Ansible's is_url: a checksum given as the address of a checksum file. */
const isUrl = (v: string) => /^(https?|ftp|file):/i.test(v);

/** Aliases folded in (username, password, thirsty), or the conflict. */
export function urlArgsOf<T extends UrlArgs & { username?: string; password?: string; thirsty?: BoolArg }>(
  args: T,
): T | string {
  const out = { ...args };
  for (const [alias, name] of [
    ['username', 'url_username'],
    ['password', 'url_password'],
    ['thirsty', 'force'],
  ] as const) {
    if (out[alias] === undefined) continue;
    if (out[name] !== undefined) return `parameters are mutually exclusive: ${name}|${alias}`;
    (out as Record<string, unknown>)[name] = out[alias];
    delete out[alias];
  }
  return out;
}

export const get_url: Module<GetUrlArgs> = {
  refused: {
    ...fileWriteRefused,
    ciphers: 'not yet supported',
    unredirected_headers: 'not yet supported',
    use_gssapi: 'not yet supported',
  },
  schema: {
    type: 'object',
    properties: {
      ...urlArgProps,
      unsafe_writes: unsafeWritesArg,
      dest: { type: 'string', minLength: 1 },
      backup: boolArg,
      checksum: { type: 'string' },
      tmp_dest: { type: 'string' },
      ...attrProps,
      thirsty: boolArg,
      username: { type: 'string' },
      password: { type: 'string' },
    },
    required: ['url', 'dest'],
    additionalProperties: false,
  },

  plan(given, ctx): Plan {
    const args = urlArgsOf(given);
    const base = {
      changed: false,
      checksum_dest: null,
      checksum_src: null,
      dest: given.dest,
      elapsed: 0,
      url: given.url,
    };
    const fail = (msg: string, result: Record<string, unknown> = base): Plan => ({
      changed: false,
      steps: [],
      failed: msg,
      result,
    });
    if (typeof args === 'string') return fail(args, {});
    const problem = requestProblem(args);
    if (problem) return fail(problem, {});
    let mode: string | undefined;
    try {
      mode = modeString(args.mode);
    } catch (e) {
      return fail((e as Error).message, {});
    }

    let algorithm = '';
    let sum = '';
    let sumUrl: string | undefined;
    if (args.checksum) {
      const i = args.checksum.indexOf(':');
      if (i < 0) return fail('The checksum parameter has to be in format <algorithm>:<checksum>');
      algorithm = args.checksum.slice(0, i);
      const value = args.checksum.slice(i + 1);
      if (!ALGORITHMS.includes(algorithm))
        return fail(
          `Could not hash file '${args.dest}' with algorithm '${algorithm}'. Available algorithms: ${ALGORITHMS.join(', ')}`,
        );
      if (isUrl(value)) {
        sumUrl = value;
        if (requestProblem({ url: value })) return fail('checksum: the URL must not contain line breaks', {});
        sum = 'url';
      } else {
        sum = value.replace(/\W+/g, '').toLowerCase();
        if (!/^[0-9a-f_]+$/.test(sum)) return fail('The checksum format is invalid');
      }
    }

    const main = requestConfig({ args, defaultTimeout: 10, follow: 'all' });
    const stdin = sumUrl
      ? `${requestConfig({ args: { ...args, url: sumUrl }, defaultTimeout: 10, follow: 'all' })}${main}`
      : main;
    return {
      changed: false,
      // The request changes nothing in check mode (HEAD): Ansible's module makes it there too.
      runInCheck: true,
      steps: [
        {
          describe: `download ${args.url} to ${args.dest}`,
          command: shScript(SCRIPT(), [
            ctx.check ? 'check' : 'apply',
            args.dest,
            toBool(args.force, false) ? 'yes' : '',
            algorithm,
            sum,
            toBool(args.backup, false) ? 'yes' : '',
            args.tmp_dest ?? '',
            args.owner ?? '',
            args.group ?? '',
            mode ?? '',
            urlFilename(args.url),
          ]),
          stdin,
        },
      ],
      acceptNonZero: true,
      finish: (outputs: RunResult[]) => getUrlResult(args, sumUrl, outputs[0]),
    };
  },
};

/** The registered result, from what get_url.sh printed (as Ansible's module would have returned it). */
export function getUrlResult(
  args: GetUrlArgs,
  sumUrl: string | undefined,
  out: RunResult | undefined,
): Record<string, unknown> {
  if (!out || out.code !== 0)
    return { failed: true, changed: false, msg: out?.stderr.trim() || 'get_url did not run on the host' };
  const kv = keyValues(out.stdout);
  const info = pathInfo(/^pathinfo=(.*)$/m.exec(out.stdout)?.[1]);
  if (kv.tool) return { failed: true, changed: false, msg: noTool('get_url') };
  const given = kv.dest ?? args.dest;
  const result: Record<string, unknown> = {
    changed: false,
    checksum_dest: null,
    checksum_src: null,
    dest: given,
    elapsed: 0,
    url: args.url,
  };
  const failed = (msg: string, fields: Record<string, unknown> = result) => ({
    ...fields,
    failed: true,
    msg,
  });
  const res = responseOf(kv, args.url);
  const elapsed = Number(kv.elapsed ?? 0);
  switch (kv.step) {
    case 'tmp_dest_file':
      return failed(`${args.tmp_dest} is a file but should be a directory.`, { changed: false, elapsed: 0 });
    case 'tmp_dest_absent':
      return failed(`${args.tmp_dest} directory does not exist.`, { changed: false, elapsed: 0 });
    case 'sums_request':
      return requestFailure(res, sumUrl!, given, elapsed, info);
    case 'sums_missing':
      return failed(`Unable to find a checksum for file '${urlFilename(args.url)}' in '${sumUrl}'`, {
        changed: false,
      });
    case 'sums_invalid':
      return failed('The checksum format is invalid', { ...result, ...info });
    case 'exists':
      return {
        ...result,
        ...info,
        changed: kv.attrs === 'changed',
        msg: kv.attrs === 'changed' ? 'file already exists but file attributes changed' : 'file already exists',
      };
    case 'request':
      return requestFailure(res, args.url, given, elapsed, info);
  }
  result.elapsed = elapsed;
  if (kv.checksum_src) result.checksum_src = kv.checksum_src;
  if (kv.checksum_dest) result.checksum_dest = kv.checksum_dest;
  const dest = String(result.dest);
  const dir = dest.includes('/') ? dest.slice(0, dest.lastIndexOf('/')) || '/' : '.';
  switch (kv.step) {
    case 'dest_not_writable':
      return failed(`Destination ${dest} is not writable`, { ...result, ...info });
    case 'dest_not_readable':
      return failed(`Destination ${dest} is not readable`, { ...result, ...info });
    case 'dir_absent':
      return failed(`Destination ${dir} does not exist`, { ...result, ...info });
    case 'dir_not_writable':
      return failed(`Destination ${dir} is not writable`, { ...result, ...info });
    case 'checked':
      return { ...result, ...info, changed: result.checksum_src !== result.checksum_dest, msg: answerMessage(res) };
    case 'move_failed':
      return failed(`failed to copy the download to ${dest}`, { ...result, ...info });
  }
  result.changed = kv.moved === 'yes';
  if (kv.step === 'mismatch') {
    const want =
      kv.checksum ??
      args
        .checksum!.slice(args.checksum!.indexOf(':') + 1)
        .replace(/\W+/g, '')
        .toLowerCase();
    return failed(`The checksum for ${dest} did not match ${want}; it was ${kv.got}.`, { ...result, ...info });
  }
  if (kv.step === 'attrs_failed')
    return failed(`could not set the owner, group or mode of ${dest}: ${out.stderr.trim()}`, { ...result, ...info });
  if (kv.step !== 'done') return failed(out.stderr.trim() || 'get_url stopped on the host', { ...result, ...info });
  return {
    ...result,
    ...info,
    changed: result.changed === true || kv.attrs === 'changed',
    md5sum: kv.md5sum,
    ...(kv.backup_file ? { backup_file: kv.backup_file } : {}),
    msg: answerMessage(res),
    status_code: res.status || null,
  };
}

/** url_get's ending when the answer is no file: not modified (ok), or a failure. */
function requestFailure(res: ReturnType<typeof responseOf>, url: string, dest: string, elapsed: number, info: object) {
  if (res.status === 0) return { changed: false, failed: true, msg: failureMessage(res), url, dest, elapsed, ...info };
  if (res.status === 304)
    return { changed: false, url, dest, msg: answerMessage(res), status_code: 304, elapsed, ...info };
  return {
    changed: false,
    failed: true,
    msg: 'Request failed',
    status_code: res.status,
    response: answerMessage(res),
    url,
    dest,
    elapsed,
    ...info,
  };
}
