// uri: an HTTP request made on the host by curl (or wget), answered as Ansible's module answers:
// status, msg, url, redirected, the response's headers (lower-cased, dashes as underscores), cookies,
// content (with return_content), json (a JSON reply), and the reply written to dest. A body (raw,
// json, form-urlencoded) travels on stdin with the URL, headers and credentials. As Ansible's, the
// module does not run in check mode.
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import { toBool } from '../util/bool.js';
import { isNumber, numberRepr } from '../util/pyfloat.js';
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
  type UrlArgs,
} from './lib/http.js';
import { urlArgsOf } from './get_url.js';

export interface UriArgs extends UrlArgs {
  method?: string;
  body?: unknown;
  body_format?: 'raw' | 'json' | 'form-urlencoded';
  status_code?: number | string | (number | string)[];
  return_content?: BoolArg;
  follow_redirects?: 'all' | 'no' | 'none' | 'safe' | 'urllib2' | 'yes';
  dest?: string;
  creates?: string;
  removes?: string;
  unix_socket?: string;
  ca_path?: string;
  owner?: string;
  group?: string;
  mode?: string | number;
  user?: string;
  password?: string;
}

const SCRIPT = () => shFile('engine/modules/uri.sh');

/** Python's json.dumps with its defaults: ", " and ": " between items, non-ASCII escaped. */
export function pyJsonDumps(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (isNumber(v)) return Number.isFinite(v.valueOf()) ? numberRepr(v) : 'NaN';
  if (typeof v === 'string')
    return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (Array.isArray(v)) return `[${v.map(pyJsonDumps).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${pyJsonDumps(k)}: ${pyJsonDumps(x)}`)
    .join(', ')}}`;
}

/** Python's str() of a scalar, as urlencode and the headers see it. */
const pyStr = (v: unknown) => (v === true ? 'True' : v === false ? 'False' : v === null ? 'None' : String(v));

/** Python's quote_plus: letters, digits and _.-~ kept, a space as +, every other byte %XX. */
const quotePlus = (s: string) =>
  [...Buffer.from(s, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9_.~-]/.test(c)) return c;
      return c === ' ' ? '+' : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');

/** Ansible's form_urlencoded: a dict or a list of pairs, list values repeated (doseq). */
export function formUrlencoded(body: unknown): string {
  if (typeof body === 'string') return body;
  const pairs: [unknown, unknown][] = Array.isArray(body)
    ? body.map((p) => (Array.isArray(p) ? [p[0], p[1]] : [p, undefined]))
    : Object.entries(body as Record<string, unknown>);
  const out: string[] = [];
  for (const [k, values] of pairs)
    for (const v of Array.isArray(values) ? values : [values])
      if (v !== null && v !== undefined) out.push(`${quotePlus(pyStr(k))}=${quotePlus(pyStr(v))}`);
  return out.join('&');
}

/** The statuses accepted: a list, a number, or a comma-separated string (Ansible's list of int). */
export function statusCodes(v: UriArgs['status_code']): number[] | undefined {
  const list = v === undefined ? [200] : Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [v];
  const out = list.map((x) => Number(String(x).trim()));
  return out.every((n) => Number.isInteger(n)) ? out : undefined;
}

/** Ansible's absolute_location: a Location header made absolute against the request's URL. */
function absoluteLocation(url: string, location: string): string {
  if (location.includes('://')) return location;
  if (location.startsWith('/')) {
    const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').replace(/[?#].*$/, '');
    return `${path ? url.replace(path, '') : url}${location}`;
  }
  return `${url.slice(0, url.lastIndexOf('/'))}/${location}`;
}

export const uri: Module<UriArgs> = {
  refused: {
    ...fileWriteRefused,
    ciphers: 'not yet supported',
    unredirected_headers: 'not yet supported',
    use_gssapi: 'not yet supported',
    src: 'not yet supported',
    remote_src: 'not yet supported',
    'body_format=form-multipart': 'not yet supported',
  },
  schema: {
    type: 'object',
    properties: {
      ...urlArgProps,
      unsafe_writes: unsafeWritesArg,
      method: { type: 'string', minLength: 1 },
      body: {},
      body_format: { enum: ['raw', 'json', 'form-urlencoded'] },
      status_code: {
        type: ['integer', 'string', 'array'],
        items: { type: ['integer', 'string'] },
      },
      return_content: boolArg,
      follow_redirects: { enum: ['all', 'no', 'none', 'safe', 'urllib2', 'yes'] },
      dest: { type: 'string', minLength: 1 },
      creates: { type: 'string', minLength: 1 },
      removes: { type: 'string', minLength: 1 },
      unix_socket: { type: 'string', minLength: 1 },
      ca_path: { type: 'string', minLength: 1 },
      ...attrProps,
      user: { type: 'string' },
      password: { type: 'string' },
    },
    required: ['url'],
    additionalProperties: false,
  },

  plan(given, ctx): Plan {
    if (ctx.check)
      return {
        changed: false,
        skipped: true,
        steps: [],
        // uri's action plugin runs the module by this name.
        msg: 'remote module (ansible.legacy.uri) does not support check mode',
      };
    const { user, ...rest } = given;
    if (user !== undefined && rest.url_username !== undefined)
      return { changed: false, steps: [], failed: 'parameters are mutually exclusive: url_username|user' };
    const args = urlArgsOf({ ...rest, ...(user !== undefined ? { url_username: user } : {}) });
    if (typeof args === 'string') return { changed: false, steps: [], failed: args };
    const fail = (msg: string): Plan => ({ changed: false, steps: [], failed: msg, result: { elapsed: 0 } });
    const problem = requestProblem(args);
    if (problem) return fail(problem);
    const method = (args.method ?? 'GET').toUpperCase();
    if (!/^[A-Z]+$/.test(method))
      return fail("Parameter 'method' needs to be a single word in uppercase, like GET or POST.");
    const accepted = statusCodes(args.status_code);
    if (!accepted) return fail(`status_code: ${JSON.stringify(args.status_code)} is not a list of integers`);
    let mode: string | undefined;
    try {
      mode = modeString(args.mode);
    } catch (e) {
      return fail((e as Error).message);
    }

    const headers: Record<string, unknown> = { ...(args.headers ?? {}) };
    const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
    let body: string | undefined;
    const format = args.body_format ?? 'raw';
    if (args.body !== undefined && args.body !== null) {
      if (format === 'json') {
        body = typeof args.body === 'string' ? args.body : pyJsonDumps(args.body);
        if (!hasType) headers['Content-Type'] = 'application/json';
      } else if (format === 'form-urlencoded') {
        if (typeof args.body !== 'string' && (typeof args.body !== 'object' || args.body === null))
          return fail('failed to parse body as form_urlencoded: cannot form-urlencode body, expect list or dict');
        body = formUrlencoded(args.body);
        if (!hasType) headers['Content-Type'] = 'application/x-www-form-urlencoded';
      } else body = typeof args.body === 'string' ? args.body : pyJsonDumps(args.body);
    } else if (format === 'json' && !hasType) headers['Content-Type'] = 'application/json';
    else if (format === 'form-urlencoded' && !hasType) headers['Content-Type'] = 'application/x-www-form-urlencoded';

    const follow = args.follow_redirects ?? 'safe';
    if (body?.includes('\0')) return fail('body must not contain NUL bytes');
    const config = requestConfig({
      args: { ...args, headers: headers as Record<string, string> },
      defaultTimeout: 30,
      method,
      follow: follow === 'none' || follow === 'no' ? 'none' : follow === 'safe' ? 'safe' : 'all',
      ...(body !== undefined ? { body } : {}),
      ...(args.unix_socket ? { unixSocket: args.unix_socket } : {}),
      ...(args.ca_path ? { caPath: args.ca_path } : {}),
    });
    const returnContent = toBool(args.return_content, false);
    return {
      changed: false,
      steps: [
        {
          describe: `${method} ${args.url}`,
          command: shScript(SCRIPT(), [
            args.dest ?? '',
            args.creates ?? '',
            args.removes ?? '',
            returnContent ? 'yes' : '',
            accepted.join(' '),
            args.owner ?? '',
            args.group ?? '',
            mode ?? '',
          ]),
          stdin: config,
        },
      ],
      acceptNonZero: true,
      finish: (outputs: RunResult[]) => uriResult(args, accepted, returnContent, outputs[0]),
    };
  },
};

/** The registered result, from what uri.sh printed. */
export function uriResult(
  args: UriArgs,
  accepted: number[],
  returnContent: boolean,
  out: RunResult | undefined,
): Record<string, unknown> {
  if (!out || out.code !== 0)
    return { failed: true, changed: false, msg: out?.stderr.trim() || 'uri did not run on the host' };
  const kv = keyValues(out.stdout);
  if (kv.tool) return { failed: true, changed: false, msg: noTool('uri') };
  const skipped = (stdout: string) => ({ changed: false, stdout, stdout_lines: [stdout] });
  if (kv.step === 'creates') return skipped(`skipped, since '${kv.path}' exists`);
  if (kv.step === 'removes') return skipped(`skipped, since '${kv.path}' does not exist`);
  const res = responseOf(kv, args.url);
  const answered = res.rc === 0 || res.status > 0;
  const ok2xx = answered && res.status >= 200 && res.status < 300;
  const status = answered ? res.status : -1;
  const bodyBytes = kv.body !== undefined ? Buffer.from(kv.body, 'base64') : undefined;

  // The content type as Python's email module reads it (text/plain when none), and whether it is JSON.
  const rawType = answered ? res.headers['content-type'] : undefined;
  const contentType = (rawType?.split(';')[0].trim().toLowerCase() || 'text/plain').split(',')[0];
  const sub = contentType.split('/')[1] ?? '';
  const suffix = sub.includes('+') ? sub.slice(sub.indexOf('+') + 1) : sub;
  const maybeJson = answered && ['json', 'javascript'].includes(suffix.toLowerCase());
  const maybeOutput = maybeJson || returnContent || !accepted.includes(status);

  const resp: Record<string, unknown> = { redirected: false, url: args.url, status };
  if (!answered) resp.msg = failureMessage(res);
  else {
    // The response's headers; cookies only from a 2xx answer (urllib raises on any other, before them).
    Object.assign(resp, res.headers);
    if (ok2xx) {
      const cookies: Record<string, string> = {};
      for (const line of Buffer.from(kv.headers ?? '', 'base64')
        .toString('utf8')
        .split(/\r?\n/)) {
        const m = /^set-cookie:\s*([^=;\s]+)=([^;]*)/i.exec(line);
        if (m) cookies[m[1]] = m[2].trim();
      }
      resp.cookies_string = Object.entries(cookies)
        .map(([k, v]) => `${k}=${v}`)
        .join('; ');
      resp.cookies = cookies;
      resp.url = res.url;
      resp.redirected = res.url !== args.url;
    }
    resp.msg = answerMessage(res);
    if (!maybeOutput && !ok2xx) resp.body = bodyBytes?.toString('utf8') ?? '';
  }
  resp.elapsed = Number(kv.elapsed ?? 0);
  resp.status = status;
  resp.changed = kv.written === 'yes' || kv.attrs === 'changed';
  const info = pathInfo(/^pathinfo=(.*)$/m.exec(out.stdout)?.[1]);
  if (kv.path !== undefined) Object.assign(resp, { path: kv.path }, info);

  const result: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resp)) result[k.replace(/-/g, '_').toLowerCase()] = v;
  if (typeof result.location === 'string') result.location = absoluteLocation(args.url, result.location);
  const content = maybeOutput ? (bodyBytes ?? Buffer.alloc(0)).toString('utf8') : undefined;
  if (maybeJson && content !== undefined) {
    try {
      result.json = JSON.parse(content);
    } catch {
      // not JSON after all: no json field, as Ansible
    }
  }
  if (kv.step === 'write_failed') return { ...result, failed: true, msg: `failed to write ${kv.path}` };
  if (kv.step === 'attrs_failed')
    return { ...result, failed: true, msg: `could not set the owner, group or mode of ${kv.path}` };
  const withContent = returnContent ? { content } : {};
  if (!accepted.includes(status))
    return {
      ...result,
      ...withContent,
      failed: true,
      msg: `Status code was ${status} and not [${accepted.join(', ')}]: ${String(result.msg ?? '')}`,
    };
  return { ...result, ...withContent };
}
