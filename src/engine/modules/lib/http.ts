// HTTP requests from a host, for get_url and uri: curl there does them (the host has no Python), else
// GNU wget, told what to do on stdin (lib/http.sh: both tools' settings travel, the host picks) — URL,
// headers and credentials never reach a command line, where every local user reads them. What the tool
// reports is turned into what Ansible's fetch_url reports (status, msg, headers, url).
import type { BoolArg } from './schema.js';
import { boolArg } from './schema.js';
import { toBool } from '../../util/bool.js';

/** The arguments Ansible's url_argument_spec gives get_url and uri (those relay-play does). */
export interface UrlArgs {
  url: string;
  force?: BoolArg;
  http_agent?: string;
  use_proxy?: BoolArg;
  validate_certs?: BoolArg;
  url_username?: string;
  url_password?: string;
  force_basic_auth?: BoolArg;
  client_cert?: string;
  client_key?: string;
  use_netrc?: BoolArg;
  decompress?: BoolArg;
  headers?: Record<string, unknown>;
  timeout?: number;
}

export const urlArgProps = {
  url: { type: 'string', minLength: 1 },
  force: boolArg,
  http_agent: { type: 'string' },
  use_proxy: boolArg,
  validate_certs: boolArg,
  url_username: { type: 'string' },
  url_password: { type: 'string' },
  force_basic_auth: boolArg,
  client_cert: { type: 'string', minLength: 1 },
  client_key: { type: 'string', minLength: 1 },
  use_netrc: boolArg,
  decompress: boolArg,
  headers: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
  timeout: { type: 'integer', minimum: 1 },
};

/** A curl config value, double-quoted (curl's escapes: \\ and \"). */
export function curlQuote(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Why a URL or header cannot be sent as it is (a line break would start another header or option). */
export function unsafeText(v: string): boolean {
  return /[\r\n\0]/.test(v);
}

export interface Request {
  args: UrlArgs;
  /** Ansible's default: get_url 'ansible-httpget', uri 'ansible-httpget'. */
  defaultTimeout: number;
  method?: string;
  /** Follow redirects: 'all', 'safe' (GET and HEAD only, as Ansible's default), 'none'. */
  follow?: 'all' | 'safe' | 'none';
  /** Extra headers the module adds (Content-Type of a body) after the user's. */
  extraHeaders?: Record<string, string>;
  /** The request's body (text). */
  body?: string;
  /** uri's unix_socket and ca_path. */
  unixSocket?: string;
  caPath?: string;
}

/**
 * The curl config of one request, or the problem with its arguments. The caller has checked the
 * values for line breaks (unsafeText) first.
 */
export function curlConfig(r: Request): string {
  const a = r.args;
  const lines = [`url = ${curlQuote(a.url)}`, 'globoff', 'max-redirs = 10'];
  const method = (r.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') lines.push(`request = ${curlQuote(method)}`);
  const follow = r.follow ?? 'safe';
  if (follow === 'all' || (follow === 'safe' && (method === 'GET' || method === 'HEAD'))) lines.push('location');
  lines.push(`user-agent = ${curlQuote(a.http_agent ?? 'ansible-httpget')}`);
  for (const [k, v] of Object.entries({ ...(a.headers ?? {}), ...(r.extraHeaders ?? {}) })) {
    const value = String(v);
    // curl drops a header given as "Name:"; "Name;" sends it empty, as Python does.
    lines.push(`header = ${curlQuote(value === '' ? `${k};` : `${k}: ${value}`)}`);
  }
  if (toBool(a.force, false)) lines.push(`header = ${curlQuote('Cache-Control: no-cache')}`);
  if (a.url_username !== undefined && a.url_username !== '') {
    lines.push(`user = ${curlQuote(`${a.url_username}:${a.url_password ?? ''}`)}`);
    lines.push(toBool(a.force_basic_auth, false) ? 'basic' : 'anyauth');
  }
  if (!toBool(a.validate_certs, true)) lines.push('insecure');
  const timeout = a.timeout ?? r.defaultTimeout;
  // Ansible's timeout is the socket's: for connecting, and for each wait on the peer.
  lines.push(`connect-timeout = ${timeout}`, `speed-time = ${timeout}`, 'speed-limit = 1');
  if (!toBool(a.use_proxy, true)) lines.push(`noproxy = ${curlQuote('*')}`);
  if (toBool(a.decompress, true)) lines.push('compressed');
  if (a.client_cert) lines.push(`cert = ${curlQuote(a.client_cert)}`);
  if (a.client_key) lines.push(`key = ${curlQuote(a.client_key)}`);
  if (toBool(a.use_netrc, true)) lines.push('netrc-optional');
  if (r.body !== undefined) {
    // curl reads \n, \r and \t in a quoted value; a GET with a body stays a GET.
    lines.push(`data-raw = ${curlQuote(r.body).replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}`);
    if (method === 'GET' || method === 'HEAD') lines.push(`request = ${curlQuote(method)}`);
  }
  if (method === 'HEAD') lines.push('head');
  if (r.unixSocket) lines.push(`unix-socket = ${curlQuote(r.unixSocket)}`);
  if (r.caPath) lines.push(`cacert = ${curlQuote(r.caPath)}`);
  return lines.join('\n') + '\n';
}

/**
 * The same request as a wgetrc (GNU wget, where the host has no curl); its first line "#url URL" is
 * http_req's. What wget cannot do is said in a line "#unsupported WHY".
 */
export function wgetConfig(r: Request): string {
  const a = r.args;
  const method = (r.method ?? 'GET').toUpperCase();
  const follow = r.follow ?? 'safe';
  const lines = [`#url ${a.url}`, 'tries = 1', 'server_response = on', 'content_on_error = on', 'robots = off'];
  if (method !== 'GET') lines.push(`method = ${method}`);
  const follows = follow === 'all' || (follow === 'safe' && (method === 'GET' || method === 'HEAD'));
  lines.push(`max_redirect = ${follows ? 10 : 0}`);
  lines.push(`user_agent = ${a.http_agent ?? 'ansible-httpget'}`);
  for (const [k, v] of Object.entries({ ...(a.headers ?? {}), ...(r.extraHeaders ?? {}) }))
    lines.push(`header = ${k}: ${String(v)}`);
  if (toBool(a.force, false)) lines.push('header = Cache-Control: no-cache');
  if (a.url_username !== undefined && a.url_username !== '') {
    lines.push(`http_user = ${a.url_username}`, `http_password = ${a.url_password ?? ''}`);
    if (toBool(a.force_basic_auth, false)) lines.push('auth_no_challenge = on');
  }
  if (!toBool(a.validate_certs, true)) lines.push('check_certificate = off');
  lines.push(`timeout = ${a.timeout ?? r.defaultTimeout}`);
  if (!toBool(a.use_proxy, true)) lines.push('use_proxy = off');
  if (a.client_cert) lines.push(`certificate = ${a.client_cert}`);
  if (a.client_key) lines.push(`private_key = ${a.client_key}`);
  lines.push(`netrc = ${toBool(a.use_netrc, true) ? 'on' : 'off'}`);
  if (r.caPath) lines.push(`ca_certificate = ${r.caPath}`);
  if (r.unixSocket) lines.push('#unsupported unix_socket needs curl');
  if (r.body !== undefined) {
    if (/[\r\n]/.test(r.body) || /^\s|\s$/.test(r.body))
      lines.push('#unsupported a body of several lines, or with spaces at an end, needs curl');
    else lines.push(`body_data = ${r.body}`);
  }
  // Values are the rest of the line: one with a line break would be another setting.
  return lines.filter((l) => !/[\r\n]/.test(l)).join('\n') + '\n';
}

/** A request as http_req reads it from stdin: curl's config, then wget's. */
export const requestConfig = (r: Request): string => `${curlConfig(r)}#wget\n${wgetConfig(r)}#end\n`;

/** The problem with a request's URL or headers, if any. */
export function requestProblem(a: UrlArgs): string | undefined {
  if (unsafeText(a.url)) return 'url must not contain line breaks';
  for (const [k, v] of Object.entries(a.headers ?? {})) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) return `headers: ${JSON.stringify(k)} is not a header name`;
    if (unsafeText(String(v))) return `headers: the value of ${k} must not contain line breaks`;
  }
  for (const v of [a.url_username, a.url_password, a.http_agent, a.client_cert, a.client_key])
    if (v !== undefined && unsafeText(v))
      return 'url_username, url_password, http_agent, client_cert and client_key must not contain line breaks';
  return undefined;
}

export interface Response {
  /** The last response's status (0: none came). */
  status: number;
  /** Its reason phrase. */
  reason: string;
  /** Its headers, names lower-cased, repeated ones joined with ", " (as Ansible's fetch_url). */
  headers: Record<string, string>;
  /** The URL it ended at. */
  url: string;
  /** curl's exit status, and its message. */
  rc: number;
  error: string;
}

/** The report http_report printed (key=value lines), as a Response. */
export function responseOf(kv: Record<string, string>, requested: string): Response {
  const raw = Buffer.from(kv.headers ?? '', 'base64').toString('utf8');
  // The last response's block (after redirects and 100 Continue).
  const blocks = raw.split(/\r?\n\r?\n/).filter((b) => /^HTTP\//.test(b));
  const last = blocks[blocks.length - 1] ?? '';
  const [statusLine = '', ...lines] = last.split(/\r?\n/);
  const m = /^HTTP\/\S+\s+(\d{3})\s*(.*)$/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return {
    status: Number(kv.status) || 0,
    reason: m?.[2] ?? '',
    headers,
    url: kv.final_url || followed(blocks, requested),
    rc: Number(kv.http_rc ?? 0),
    error: (kv.http_err ?? '').trim(),
  };
}

/** The URL a chain of responses ended at, from their Locations (wget does not say it). */
function followed(blocks: string[], url: string): string {
  for (const b of blocks.slice(0, -1)) {
    const loc = /^location:\s*(.*?)\s*$/im.exec(b)?.[1];
    if (!loc) break;
    try {
      url = new URL(loc, url).href;
    } catch {
      break;
    }
  }
  return url;
}

/** What Python's urllib would have said of a request curl could not make (Ansible's "Request failed: ..."). */
export function failureMessage(r: Response): string {
  const e = r.error.replace(/^curl: \(\d+\)\s*/, '');
  const failed = (why: string) => `Request failed: <urlopen error ${why}>`;
  if (/^#unsupported /.test(e)) return `relay-play's request needs curl on the host: ${e.slice(13)}`;
  if (/no route/i.test(e)) return failed('[Errno 113] No route to host');
  if (r.rc === 28 || /timed out/i.test(e)) return failed('timed out');
  if (r.rc === 6 || /unable to resolve|could not resolve/i.test(e))
    return failed('[Errno -2] Name or service not known');
  if (r.rc === 7 || /refused/i.test(e)) return failed('[Errno 111] Connection refused');
  if (r.rc === 60 || /certificate/i.test(e))
    return failed(`[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed (${e})`);
  return failed(e || `exit ${r.rc}`);
}

/** Ansible's msg for an answer: "OK (N bytes)", or the HTTPError's "HTTP Error N: reason". */
export function answerMessage(r: Response): string {
  if (r.status >= 200 && r.status < 300) return `OK (${r.headers['content-length'] ?? 'unknown'} bytes)`;
  return `HTTP Error ${r.status}: ${r.reason}`;
}

/** key=value lines as a record (the last of a key wins). */
export function keyValues(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Ansible's url_filename: the last part of the URL's path, or index.html. */
export function urlFilename(url: string): string {
  const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').replace(/[?#].*$/, '');
  return path.slice(path.lastIndexOf('/') + 1) || 'index.html';
}

/** The path info Ansible adds to a result naming a path that exists (add_path_info). */
export function pathInfo(line: string | undefined): Record<string, unknown> {
  if (!line) return {};
  const parts = line.split('|');
  const [uid, gid, owner, group, mode, kind, links, size] = parts.slice(-8);
  const state =
    kind === 'symbolic link' ? 'link' : kind === 'directory' ? 'directory' : Number(links) > 1 ? 'hard' : 'file';
  return {
    uid: Number(uid),
    gid: Number(gid),
    owner,
    group,
    mode: `0${mode.padStart(3, '0')}`,
    state,
    size: Number(size),
  };
}

/** Where the host has neither curl nor wget: what to say. */
export const noTool = (module: string): string =>
  `${module} needs curl or wget on the host (relay-play runs no Python there): it has neither`;
