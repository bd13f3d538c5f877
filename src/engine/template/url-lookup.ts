// The url lookup: ansible.builtin.url, run on the controller as in Ansible. Templates render
// synchronously, so each request is made by a child node process that is told the request on its
// standard input (credentials and headers never on a command line) and answers in JSON.
import { spawnSync } from 'node:child_process';
import { isPlainObject, toStr, typeName } from './values.js';

export class UrlLookupError extends Error {}

const OPTIONS = [
  'validate_certs',
  'use_proxy',
  'username',
  'password',
  'headers',
  'force',
  'timeout',
  'http_agent',
  'force_basic_auth',
  'follow_redirects',
  'split_lines',
];
const REFUSED = ['use_gssapi', 'unix_socket', 'ca_path', 'unredirected_headers'];

// The request, in the child: one GET, redirects followed as urllib2 follows them, Basic credentials sent
// up front with force_basic_auth, else only when the server asks (401 with a Basic challenge).
const CHILD = `
const o = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const done = (x) => { process.stdout.write(JSON.stringify(x)); process.exit(0); };
function get(url, hops, auth) {
  let u;
  try { u = new URL(url); } catch { return done({ url: 'unknown url type: ' + url }); }
  const mod = u.protocol === 'https:' ? require('https') : u.protocol === 'http:' ? require('http') : null;
  if (!mod) return done({ url: 'unknown url type: ' + u.protocol.slice(0, -1) });
  const headers = { 'User-Agent': o.agent, ...(o.force ? { 'cache-control': 'no-cache' } : {}), ...o.headers };
  if (o.user !== null && (o.forceAuth || auth))
    headers.Authorization = 'Basic ' + Buffer.from(o.user + ':' + (o.password ?? '')).toString('base64');
  const req = mod.request(u, { headers, rejectUnauthorized: o.validate, timeout: o.timeout * 1000 }, (res) => {
    const code = res.statusCode;
    if (code >= 300 && code < 400 && res.headers.location && o.follow && hops < 10) {
      res.resume();
      return get(new URL(res.headers.location, u).href, hops + 1, auth);
    }
    const challenge = /basic/i.test(String(res.headers['www-authenticate'] ?? ''));
    if (code === 401 && challenge && o.user !== null && !o.forceAuth && !auth) {
      res.resume();
      return get(url, hops, true);
    }
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () =>
      code >= 300 ? done({ http: code + ': ' + res.statusMessage }) : done({ body: Buffer.concat(chunks).toString('base64') }),
    );
    res.on('error', (e) => done({ connect: e.message }));
  });
  req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
  req.on('error', (e) => {
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(e.code ?? '')) return done({ cert: e.message });
    const errno = { ECONNREFUSED: '[Errno 111] Connection refused', ENOTFOUND: '[Errno -2] Name or service not known' }[e.code];
    done({ url: errno ?? e.message });
  });
  req.end();
}
get(o.url, 0, false);
`;

interface Answer {
  body?: string;
  http?: string;
  url?: string;
  cert?: string;
  connect?: string;
}

const flag = (kw: Record<string, unknown>, k: string, dflt: boolean) => {
  const v = kw[k];
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  return ['yes', 'on', '1', 'true', 'y', 't'].includes(toStr(v).toLowerCase());
};

/** lookup('url', URL..., options): each URL's content, as lines (split_lines, the default) or whole. */
export function urlLookup(terms: unknown[], kw: Record<string, unknown>): unknown[] {
  for (const k of Object.keys(kw)) {
    if (REFUSED.includes(k)) throw new UrlLookupError(`url: option "${k}" is not supported by relay-play`);
    if (!OPTIONS.includes(k)) throw new UrlLookupError(`Requested option ${k} was not defined in configuration`);
  }
  const headers = kw.headers ?? {};
  if (!isPlainObject(headers)) throw new UrlLookupError(`url: headers must be a dict, got ${typeName(headers)}`);
  const timeout = Number(kw.timeout ?? 10);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new UrlLookupError(`url: timeout must be a number of seconds`);
  const follow = !['none', 'no', 'false'].includes(toStr(kw.follow_redirects ?? 'urllib2').toLowerCase());
  const base = {
    agent: toStr(kw.http_agent ?? 'ansible-httpget'),
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, toStr(v)])),
    user: kw.username === undefined || kw.username === null ? null : toStr(kw.username),
    password: kw.password === undefined || kw.password === null ? null : toStr(kw.password),
    forceAuth: flag(kw, 'force_basic_auth', false),
    force: flag(kw, 'force', false),
    validate: flag(kw, 'validate_certs', true),
    timeout,
    follow,
  };
  const split = flag(kw, 'split_lines', true);
  return terms.flatMap((t) => {
    const url = toStr(t);
    const r = spawnSync(process.execPath, ['-e', CHILD], {
      input: JSON.stringify({ ...base, url }),
      encoding: 'utf8',
      timeout: (timeout + 5) * 1000,
      maxBuffer: 256 * 1024 * 1024,
    });
    let a: Answer;
    try {
      a = JSON.parse(r.stdout) as Answer;
    } catch {
      throw new UrlLookupError(`Error connecting to ${url}: ${r.error?.message ?? (r.stderr.trim() || 'no answer')}`);
    }
    if (a.http !== undefined) throw new UrlLookupError(`Received HTTP error for ${url} : HTTP Error ${a.http}`);
    if (a.url !== undefined) throw new UrlLookupError(`Failed lookup url for ${url} : <urlopen error ${a.url}>`);
    if (a.cert !== undefined)
      throw new UrlLookupError(`Error validating the server's certificate for ${url}: ${a.cert}`);
    if (a.connect !== undefined) throw new UrlLookupError(`Error connecting to ${url}: ${a.connect}`);
    const text = Buffer.from(a.body ?? '', 'base64').toString('utf8');
    // Python's bytes.splitlines: \n, \r\n and \r end a line.
    return split ? text.split(/\r\n|\r|\n/).filter((l, i, all) => i < all.length - 1 || l !== '') : [text];
  });
}
