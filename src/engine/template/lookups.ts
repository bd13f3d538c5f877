// Lookups (`lookup('file', 'x')`, `query('items', list)`, and what the `with_*` loops iterate), run on the
// controller as in Ansible: they read the controller's files and environment and run its commands,
// never a managed host's. Each returns a list; `lookup()` joins a list of strings with "," (see
// lookupValue), `query()`/`q()` keep the list. Files are searched as ansible-core searches them:
// `ansible_search_path` (or the role's directory, then the playbook's), each with the lookup's
// subdirectory (`files/`, `templates/`) first, then the playbook's directory.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { posix } from 'node:path';
import { md5Crypt, randomSalt, shaCrypt } from './crypt.js';
import { csvRows } from './csv.js';
import { glob } from './glob.js';
import { IniError, iniItems, parseIni } from './ini.js';
import { percentFormat } from './pyfmt.js';
import { pyRegex } from '../util/pyre.js';
import { PatternError, matchPattern } from '../util/host-pattern.js';
import { isPlainObject, pyRepr, toStr, tuple, typeName } from './values.js';
import { UrlLookupError, urlLookup } from './url-lookup.js';

export class LookupError extends Error {}

/** What a lookup may use of the place that calls it. */
export interface LookupContext {
  vars: Record<string, unknown>;
  /** A variable's value, its templates rendered (the `vars` lookup); undefined when there is none. */
  variable(name: string): { value: unknown } | undefined;
}

/** Renders a template file's text with variables (set by src/engine/template/jinja.ts). */
type FileRenderer = (text: string, vars: Record<string, unknown>, file: string) => unknown;
let renderFile: FileRenderer | undefined;
export function setLookupTemplateRenderer(fn: FileRenderer): void {
  renderFile = fn;
}

type Plugin = (terms: unknown[], kwargs: Record<string, unknown>, ctx: LookupContext) => unknown[];

/** The lookups relay-play has; any other name is refused when the expression is parsed. */
export const LOOKUP_NAMES = [
  'file',
  'env',
  'pipe',
  'lines',
  'template',
  'vars',
  'varnames',
  'items',
  'list',
  'indexed_items',
  'sequence',
  'dict',
  'together',
  'nested',
  'subelements',
  'first_found',
  'fileglob',
  'password',
  'random_choice',
  'ini',
  'csvfile',
  'inventory_hostnames',
  'config',
  'url',
] as const;

const basedir = (ctx: LookupContext): string => {
  const d = ctx.vars.playbook_dir;
  return typeof d === 'string' && d ? d : process.cwd();
};

function searchPaths(ctx: LookupContext): string[] {
  const sp = ctx.vars.ansible_search_path;
  if (Array.isArray(sp)) return sp.map(toStr);
  const role = ctx.vars.role_path;
  return [...(typeof role === 'string' && role ? [role] : []), basedir(ctx)];
}

/** ansible-core's path_dwim_relative_stack: where `source` is, or undefined. */
export function findFile(ctx: LookupContext, subdir: string, source: string): string | undefined {
  if (source.startsWith('/') || source.startsWith('~')) {
    const p = posix.normalize(source.replace(/^~(?=\/|$)/, process.env.HOME ?? homedir()));
    return existsSync(p) ? p : undefined;
  }
  const candidates: string[] = [];
  const first = source.split('/')[0];
  for (const p of [...searchPaths(ctx), basedir(ctx)]) {
    const abs = posix.resolve(p);
    if (first !== subdir) candidates.push(posix.join(abs, subdir, source));
    candidates.push(posix.join(abs, source));
  }
  return candidates.find((c) => existsSync(c));
}

const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string') throw new LookupError(`${what} must be a string, got ${typeName(v)}`);
  return v;
};

/** One level of flattening, as LookupBase._flatten. */
const flatten1 = (terms: unknown[]): unknown[] => terms.flatMap((t) => (Array.isArray(t) ? t : [t]));

/** `key=value key2="v w"` (Ansible's parse_kv, for the sequence and password lookups). */
export function parseKv(text: string): { params: Record<string, string>; raw: string[] } {
  const params: Record<string, string> = {};
  const raw: string[] = [];
  const re = /\s*((?:[^\s"'=]+=)?(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s"']+)+)/gy;
  for (const m of text.matchAll(re)) {
    const tok = m[1];
    const eq = /^([^\s"'=]+)=(.*)$/s.exec(tok);
    const unq = (s: string) => s.replace(/^"(.*)"$|^'(.*)'$/s, '$1$2');
    if (eq) params[eq[1]] = unq(eq[2]);
    else raw.push(unq(tok));
  }
  return { params, raw };
}

function run(cmd: string, ctx: LookupContext, what: string): string {
  const r = spawnSync('/bin/sh', ['-c', cmd], { cwd: basedir(ctx), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new LookupError(`lookup_plugin.${what}(${cmd}) could not run: ${r.error.message}`);
  if (r.status !== 0) throw new LookupError(`lookup_plugin.${what}(${cmd}) returned ${r.status ?? 'a signal'}`);
  return r.stdout;
}

const intArg = (v: string, what: string): number => {
  const s = v.trim().toLowerCase();
  const m = /^([-+]?)(0x[0-9a-f]+|0o[0-7]+|0b[01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s.replace(/_/g, ''));
  if (!m) throw new LookupError(`can't parse ${what}=${v} as integer`);
  const body = m[2];
  const n = body.startsWith('0x')
    ? parseInt(body.slice(2), 16)
    : body.startsWith('0o')
      ? parseInt(body.slice(2), 8)
      : body.startsWith('0b')
        ? parseInt(body.slice(2), 2)
        : /^0[0-7]+$/.test(body)
          ? NaN // Python 3's int(x, 0) refuses "0664"
          : Number(body);
  if (Number.isNaN(n)) throw new LookupError(`can't parse ${what}=${v} as integer`);
  return m[1] === '-' ? -n : n;
};

function sequence(term: string): string[] {
  let start = 1;
  let end: number | undefined;
  let count: number | undefined;
  let stride = 1;
  let format = '%d';
  const short =
    /^(?:(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)-)?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)(?:\/(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*))?(?::(.+))?$/.exec(
      term,
    );
  if (short) {
    if (short[1] !== undefined) start = intArg(short[1], 'start');
    end = intArg(short[2], 'end');
    if (short[3] !== undefined) stride = intArg(short[3], 'stride');
    if (short[4] !== undefined) format = short[4];
  } else {
    const { params } = parseKv(term);
    for (const k of ['start', 'end', 'count', 'stride'] as const) {
      if (params[k] === undefined) continue;
      const n = intArg(params[k], k);
      if (k === 'start') start = n;
      else if (k === 'end') end = n;
      else if (k === 'count') count = n;
      else stride = n;
      delete params[k];
    }
    if (params.format !== undefined) {
      format = params.format;
      delete params.format;
    }
    const extra = Object.keys(params);
    if (extra.length) throw new LookupError(`unrecognized arguments to with_sequence: ${pyRepr(extra)}`);
  }
  if (count === undefined && end === undefined) throw new LookupError('must specify count or end in with_sequence');
  if (count !== undefined && end !== undefined)
    throw new LookupError("can't specify both count and end in with_sequence");
  if (count !== undefined) {
    if (count !== 0) end = start + count * stride - 1;
    else [start, end, stride] = [0, 0, 0];
  }
  if (stride > 0 && end! < start) throw new LookupError('to count backwards make stride negative');
  if (stride < 0 && end! > start) throw new LookupError("to count forward don't make stride negative");
  if ((format.match(/%/g) ?? []).length !== 1) throw new LookupError(`bad formatting string: ${format}`);
  const out: string[] = [];
  if (stride === 0) throw new LookupError('unknown error generating sequence: range() arg 3 must not be zero');
  const stop = end! + (stride >= 0 ? 1 : -1);
  for (let i = start; stride > 0 ? i < stop : i > stop; i += stride) {
    try {
      out.push(percentFormat(format, [i]));
    } catch {
      throw new LookupError(`problem formatting ${i} with '${format}'`);
    }
    if (out.length > 1_000_000) throw new LookupError('sequence too long');
  }
  return out;
}

const PASSWORD_CHARS: Record<string, string> = {
  ascii_letters: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ascii_lowercase: 'abcdefghijklmnopqrstuvwxyz',
  ascii_uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  hexdigits: '0123456789abcdefABCDEF',
  octdigits: '01234567',
  punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
};

function password(term: string, kwargs: Record<string, unknown>, ctx: LookupContext): string {
  const sp = term.indexOf(' ');
  let rel = sp < 0 ? term : term.slice(0, sp);
  const { params, raw } = sp < 0 ? { params: {}, raw: [] } : parseKv(term.slice(sp + 1));
  if (raw.length) rel = [rel, ...raw].join(' ');
  const all: Record<string, unknown> = { ...kwargs, ...params };
  const bad = Object.keys(all).filter((k) => !['length', 'encrypt', 'chars', 'ident', 'seed'].includes(k));
  if (bad.length) throw new LookupError(`Unrecognized parameter(s) given to password lookup: ${bad.join(', ')}`);
  if (all.seed !== undefined) throw new LookupError('the "seed" parameter of the password lookup is not supported');
  const length = Number(all.length ?? 20);
  const specs = Array.isArray(all.chars)
    ? all.chars.map(toStr)
    : typeof all.chars === 'string'
      ? [...(all.chars.includes(',,') ? [','] : []), ...all.chars.replace(/,,/g, ',').split(',').filter(Boolean)]
      : ['ascii_letters', 'digits', '.,:-_'];
  const chars = [
    ...new Set(
      specs
        .map((s) => PASSWORD_CHARS[s] ?? s)
        .join('')
        .replace(/["']/g, ''),
    ),
  ].join('');
  if (!chars) throw new LookupError('no characters to make a password from');
  const encrypt = all.encrypt === undefined || all.encrypt === null ? undefined : toStr(all.encrypt);
  const path = posix.resolve(basedir(ctx), rel);
  const devnull = path === '/dev/null';
  let content: string | undefined;
  if (!devnull && existsSync(path)) content = readFileSync(path, 'utf8').trimEnd();
  let plain: string;
  let salt: string | undefined;
  let changed = false;
  if (content === undefined) {
    plain = Array.from({ length }, () => chars[randomInt(chars.length)]).join('');
    changed = true;
  } else {
    const i = content.lastIndexOf(' salt=');
    plain = i < 0 ? content : content.slice(0, i);
    salt = i < 0 ? undefined : content.slice(i + 6).replace(/ ident=.*$/, '');
  }
  const algo =
    encrypt &&
    ({ sha512_crypt: 'sha512', sha256_crypt: 'sha256', md5_crypt: 'md5' } as Record<string, string>)[encrypt];
  if (encrypt && !algo)
    throw new LookupError(`encrypt=${encrypt} is not supported (sha512_crypt, sha256_crypt, md5_crypt are)`);
  if (encrypt && !salt) {
    salt = randomSalt(algo === 'md5' ? 8 : 16);
    changed = true;
  }
  if (changed && !devnull) {
    mkdirSync(posix.dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, `${encrypt ? `${plain} salt=${salt}` : plain}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  if (!algo) return plain;
  return algo === 'md5' ? md5Crypt(plain, salt!) : shaCrypt(algo as 'sha256' | 'sha512', plain, salt!);
}

function firstFound(terms: unknown[], kwargs: Record<string, unknown>, ctx: LookupContext): string[] {
  const split = (v: unknown): string[] =>
    (Array.isArray(v) ? v : [v]).flatMap((x) => (typeof x === 'string' ? x.split(/[,;]/).map((s) => s.trim()) : []));
  let files: string[] = [];
  let skip = kwargs.skip === true;
  const add = (fs: string[], ps: string[]) => {
    if (!ps.length) files.push(...fs);
    else for (const p of ps) for (const f of fs) files.push(posix.join(p, f));
  };
  if (kwargs.files !== undefined || kwargs.paths !== undefined)
    add(split(kwargs.files ?? []), split(kwargs.paths ?? []));
  for (const term of terms.flatMap((t) => (Array.isArray(t) ? t : [t]))) {
    if (isPlainObject(term)) {
      add(split(term.files ?? []), split(term.paths ?? []));
      if (term.skip === true) skip = true;
    } else if (typeof term === 'string') add(split(term), split(kwargs.paths ?? []));
    else
      throw new LookupError(
        `Invalid term supplied, can handle string, mapping or list of strings but got: ${typeName(term)}`,
      );
  }
  files = files.filter(Boolean);
  for (const f of files) {
    const found = findFile(ctx, 'files', f);
    if (found) return [found];
  }
  if (skip) return [];
  throw new LookupError('No file was found when using first_found.');
}

/** A file's text for a lookup that names it in an option: an error naming the option's value when missing. */
function readOption(ctx: LookupContext, file: unknown, what: string): string {
  const path = findFile(ctx, 'files', String(file));
  if (!path || statSync(path).isDirectory()) throw new LookupError(`${what}: could not locate file ${String(file)}`);
  return readFileSync(path, 'utf8');
}

/**
 * The ini lookup's terms: `key`, or ansible-core's inline form `key section=s file=f` (an option's value
 * runs on over the words after it that are no option); options given so persist for the later terms.
 */
function iniTerm(term: string, options: Record<string, unknown>): string {
  if (!term.includes('=') && !term.trim().includes(' ')) return term;
  const params: [string, string][] = [];
  let current = 'key';
  term
    .split(/\s+/)
    .filter(Boolean)
    .forEach((word, i) => {
      if (word.includes('=')) current = Object.keys(options).find((k) => word.includes(`${k}=`)) ?? current;
      const at = params.find(([k]) => k === current);
      if (i === 0 || !at) params.push([current, word]);
      else at[1] += ` ${word}`;
    });
  let key: string | undefined;
  for (const [, param] of params) {
    if (param.includes('=')) {
      const [name, ...value] = param.split('=');
      if (value.length > 1) throw new LookupError(`Could not use '${param}': too many values to unpack`);
      if (!(name in options)) throw new LookupError(`${name} is not a valid option.`);
      options[name] = value[0];
    } else key ??= param;
  }
  if (key === undefined)
    throw new LookupError(`No key to lookup was provided as first term with in string inline options: ${term}`);
  return key;
}

function ini(terms: unknown[], kw: Record<string, unknown>, ctx: LookupContext): unknown[] {
  const options: Record<string, unknown> = {
    allow_no_value: false,
    case_sensitive: false,
    default: '',
    encoding: 'utf-8',
    file: 'ansible.ini',
    re: false,
    section: 'global',
    type: 'ini',
    ...kw,
  };
  return terms.flatMap((t) => {
    const key = iniTerm(str(t, 'ini key'), options);
    const properties = options.type === 'properties';
    const text = (properties ? '[java_properties]\n' : '') + readOption(ctx, options.file, 'ini');
    const section = properties ? 'java_properties' : String(options.section);
    const caseSensitive = Boolean(options.case_sensitive);
    let items: [string, string | null][];
    try {
      items = iniItems(parseIni(text, { caseSensitive, allowNoValue: Boolean(options.allow_no_value) }), section);
    } catch (e) {
      if (!(e instanceof IniError)) throw e;
      if (e.message.startsWith('No section'))
        throw new LookupError(`No section '${section}' in ${String(options.file)}`);
      throw new LookupError(`Duplicate option in '${String(options.file)}': ${e.message}`);
    }
    if (options.re) {
      // Python's re.match: the key's pattern, anchored at the start of each option's name.
      const re = pyRegex(key, 'ini key');
      const atStart = new RegExp(re.source, `${re.flags}y`);
      return items.filter(([k]) => ((atStart.lastIndex = 0), atStart.test(k))).map(([, v]) => v);
    }
    const name = caseSensitive ? key : key.toLowerCase();
    const found = items.find(([k]) => k === name);
    return [found ? found[1] : options.default];
  });
}

function csvfile(terms: unknown[], kw: Record<string, unknown>, ctx: LookupContext): unknown[] {
  const base: Record<string, unknown> = {
    col: '1',
    default: null,
    delimiter: 'TAB',
    file: 'ansible.csv',
    encoding: 'utf-8',
    ...kw,
  };
  return terms.flatMap((t) => {
    const { params, raw } = parseKv(str(t, 'csvfile key'));
    if (!raw.length) throw new LookupError('Search key is required but was not found');
    for (const name of Object.keys(params)) if (!(name in base)) throw new LookupError(`${name} is not a valid option`);
    // As ansible-core: an inline option stays set for the terms after it.
    const options = Object.assign(base, params);
    const delimiter = options.delimiter === 'TAB' || options.delimiter === '\\t' ? '\t' : String(options.delimiter);
    const key = raw.join(' ');
    const row = csvRows(readOption(ctx, options.file, 'csvfile'), delimiter).find((r) => r.length && r[0] === key);
    const value = row ? row[Number(options.col)] : options.default;
    if (row && value === undefined) throw new LookupError(`csvfile: list index out of range`);
    return value === null || value === undefined ? [] : [value];
  });
}

const PLUGINS: Record<string, Plugin> = {
  file: (terms, kw, ctx) =>
    terms.map((t) => {
      const name = str(t, 'file name');
      const path = findFile(ctx, 'files', name);
      if (!path || statSync(path).isDirectory()) throw new LookupError(`could not locate file in lookup: ${name}`);
      let text = readFileSync(path, 'utf8');
      if (kw.rstrip !== false) text = text.trimEnd();
      if (kw.lstrip === true) text = text.trimStart();
      return text;
    }),
  env: (terms, kw) =>
    terms.map((t) => {
      const name = str(t, 'variable name');
      return Object.hasOwn(process.env, name) ? process.env[name]! : kw.default !== undefined ? kw.default : '';
    }),
  pipe: (terms, _kw, ctx) => terms.map((t) => run(str(t, 'command'), ctx, 'pipe').trimEnd()),
  lines: (terms, _kw, ctx) =>
    terms.flatMap((t) => {
      const out = run(str(t, 'command'), ctx, 'lines');
      return out.split(/\r\n|\r|\n/).filter((l, i, all) => i < all.length - 1 || l !== '');
    }),
  template: (terms, kw, ctx) =>
    terms.map((t) => {
      const name = str(t, 'template name');
      const path = findFile(ctx, 'templates', name);
      if (!path) throw new LookupError(`the template file ${name} could not be found for the lookup`);
      if (!renderFile) throw new LookupError('templates cannot be rendered here');
      const extra = isPlainObject(kw.template_vars) ? kw.template_vars : {};
      return renderFile(readFileSync(path, 'utf8'), { ...ctx.vars, ...extra }, path);
    }),
  vars: (terms, kw, ctx) =>
    terms.map((t) => {
      const name = str(t, 'variable name');
      const v = ctx.variable(name);
      if (v) return v.value;
      if (Object.hasOwn(kw, 'default')) return kw.default;
      throw new LookupError(`No variable found with this name: ${name}`);
    }),
  varnames: (terms, _kw, ctx) => {
    const names = Object.keys(ctx.vars);
    return terms.flatMap((t) => {
      let re: RegExp;
      try {
        re = new RegExp(str(t, 'pattern'));
      } catch (e) {
        throw new LookupError(`Unable to use "${toStr(t)}" as a search parameter: ${(e as Error).message}`);
      }
      return names.filter((n) => re.exec(n)?.index === 0);
    });
  },
  items: (terms) => flatten1(terms),
  list: (terms) => terms,
  indexed_items: (terms) => {
    if (!Array.isArray(terms)) throw new LookupError('with_indexed_items expects a list');
    return flatten1(terms).map((x, i) => tuple([i, x]));
  },
  sequence: (terms) => terms.flatMap((t) => sequence(str(t, 'sequence'))),
  dict: (terms) =>
    terms.flatMap((t) => {
      if (!isPlainObject(t)) throw new LookupError(`with_dict expects a dict, got ${typeName(t)}`);
      return Object.entries(t).map(([key, value]) => ({ key, value }));
    }),
  together: (terms) => {
    const lists = terms.map((t) => (Array.isArray(t) ? t : [t]));
    if (!lists.length) throw new LookupError('with_together requires at least one element in each list');
    const n = Math.max(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_, i) => lists.map((l) => (i < l.length ? l[i] : null)));
  },
  nested: (terms) => {
    const lists = terms.map((t) => (Array.isArray(t) ? t : [t]));
    if (!lists.length) throw new LookupError('with_nested requires at least one element in the nested list');
    return lists.reduce<unknown[][]>((acc, l) => acc.flatMap((p) => l.map((x) => [...p, x])), [[]]);
  },
  subelements: (terms) => {
    const [data, key, flags] = terms;
    if (terms.length < 2 || terms.length > 3 || typeof key !== 'string')
      throw new LookupError('subelements lookup expects a list of two or three items, the second a key name');
    const skipMissing = isPlainObject(flags) && flags.skip_missing === true;
    const items = isPlainObject(data) ? Object.values(data) : Array.isArray(data) ? data : undefined;
    if (!items) throw new LookupError('subelements lookup expects a dictionary or a list');
    const out: unknown[] = [];
    for (const item of items) {
      if (!isPlainObject(item)) throw new LookupError('subelements lookup expects a list of dictionaries');
      if (item.skipped === true) continue;
      let cur: unknown = item;
      let missing = false;
      for (const part of key.split('.')) {
        if (!isPlainObject(cur) || !Object.hasOwn(cur, part)) {
          if (skipMissing) {
            missing = true;
            break;
          }
          throw new LookupError(`could not find '${key}' key in iterated item ${pyRepr(item)}`);
        }
        cur = cur[part];
      }
      if (missing) continue;
      if (!Array.isArray(cur)) throw new LookupError(`the key ${key} should point to a list, got ${pyRepr(cur)}`);
      for (const sub of cur) out.push(tuple([item, sub]));
    }
    return out;
  },
  first_found: firstFound,
  fileglob: (terms, _kw, ctx) =>
    terms.flatMap((t) => {
      const pattern = str(t, 'pattern');
      const dir = posix.dirname(pattern);
      const found =
        dir === '.' && !pattern.startsWith('./') ? findFile(ctx, 'files', '.') : findFile(ctx, 'files', dir);
      if (!found) return [];
      return glob(posix.join(found, posix.basename(pattern))).filter((f) => {
        try {
          return statSync(f).isFile();
        } catch {
          return false;
        }
      });
    }),
  password: (terms, kw, ctx) => terms.map((t) => password(str(t, 'password path'), kw, ctx)),
  url: (terms, kw) => {
    try {
      return urlLookup(terms, kw);
    } catch (e) {
      throw e instanceof UrlLookupError ? new LookupError(e.message) : e;
    }
  },
  random_choice: (terms) => (terms.length ? [terms[randomInt(terms.length)]] : []),
  // As Ansible's: the hosts of the `groups` variable that the pattern(s) match, in inventory order.
  inventory_hostnames: (terms, _kw, ctx) => {
    const g = isPlainObject(ctx.vars.groups) ? ctx.vars.groups : {};
    const groups = new Map(Object.entries(g).map(([k, v]) => [k, Array.isArray(v) ? v.map(toStr) : []]));
    const hosts = [...new Set([...groups.values()].flat())];
    try {
      return matchPattern(flatten1(terms).map(toStr).join(','), groups, hosts).inPatternOrder;
    } catch (e) {
      if (e instanceof PatternError) return [];
      throw e;
    }
  },
  config: (terms, kw) => {
    for (const k of Object.keys(kw))
      if (k !== 'on_missing') throw new LookupError(`the config lookup's "${k}" is not supported (only on_missing)`);
    const missing = kw.on_missing ?? 'error';
    if (missing !== 'error' && missing !== 'warn' && missing !== 'skip')
      throw new LookupError(
        `"on_missing" must be a string and one of "error", "warn" or "skip", not ${toStr(missing)}`,
      );
    return terms.flatMap((t) => {
      const name = str(t, 'setting name');
      if (Object.hasOwn(CONFIG, name)) return [CONFIG[name]];
      throw new LookupError(
        `relay-play does not report the setting ${name} (it reports ansible-core's defaults of ${Object.keys(CONFIG).join(', ')})`,
      );
    });
  },
  ini,
  csvfile,
};

/**
 * Run lookup `name` on `terms` (the positional arguments of lookup()/query(), or a `with_<name>` loop's
 * value as a list) and give its list of results. Throws LookupError.
 */
/**
 * The settings the config lookup reports: ansible-core 2.14's defaults (as ansible-config reports them with no
 * ansible.cfg and no ANSIBLE_* variables), for what relay-play does the same way.
 */
const CONFIG: Record<string, unknown> = {
  ANY_ERRORS_FATAL: false,
  DEFAULT_BECOME: false,
  DEFAULT_BECOME_METHOD: 'sudo',
  DEFAULT_BECOME_USER: 'root',
  DEFAULT_HASH_BEHAVIOUR: 'replace',
  DEFAULT_JINJA2_NATIVE: false,
  DEFAULT_KEEP_REMOTE_FILES: false,
  DEFAULT_MANAGED_STR: 'Ansible managed',
  DEFAULT_NULL_REPRESENTATION: null,
  DEFAULT_PRIVATE_ROLE_VARS: false,
  DEFAULT_REMOTE_PORT: null,
  DEFAULT_REMOTE_USER: null,
  DEFAULT_STRATEGY: 'linear',
  DEFAULT_UNDEFINED_VAR_BEHAVIOR: true,
  HOST_KEY_CHECKING: true,
  RETRY_FILES_ENABLED: false,
};

export function runLookup(
  name: string,
  terms: unknown[],
  kwargs: Record<string, unknown>,
  ctx: LookupContext,
): unknown[] {
  const plugin = PLUGINS[name];
  if (!plugin) throw new LookupError(`lookup plugin (${name}) not found`);
  return plugin(terms, kwargs, ctx);
}

/** lookup()'s value of a result list: strings joined with ",", else the one item, else the list. */
export function lookupValue(results: unknown[]): unknown {
  if (!results.length) return results;
  if (results.every((r) => typeof r === 'string')) return results.join(',');
  return results.length === 1 ? results[0] : results;
}
