// The filters, tests, methods and functions expressions may call (Jinja's and Ansible's names and
// arguments, with the results Ansible documents). Nothing else is callable: an unknown name is a
// parse error, so a playbook that uses one is refused before any host is touched.
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';
import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { PYYAML } from '../yaml/pyyaml.js';
import { pyExpand, pyRegex } from '../util/pyre.js';
import { md5Crypt, randomSalt, shaCrypt } from './crypt.js';
import { FormatError, braceFormat, center, fixed, percentFormat, strftime, title, wordwrap } from './pyfmt.js';
import { globFiles } from './glob.js';
import { pyYamlDump } from './pyyaml.js';
import { jsonParse, numberRepr } from '../util/pyfloat.js';
import { LOOKUP_NAMES, LookupError, lookupValue, runLookup, type LookupContext } from './lookups.js';
import { versionCompare } from './version.js';
import {
  ExprError,
  Undef,
  UndefinedVarError,
  Callable,
  compare,
  deepEqual,
  float,
  isFloat,
  isInt,
  isNumber,
  isNamespace,
  isPlainObject,
  namespace,
  PyDate,
  need,
  pyRepr,
  toStr,
  truthy,
  tuple,
  typeName,
} from './values.js';

/** Arguments as evaluated: an undefined one stays Undef until a filter uses it (as Jinja). */
export interface CallArgs {
  args: unknown[];
  kwargs: Record<string, unknown>;
}

interface Spec<F> {
  min: number;
  max: number;
  kwargs?: readonly string[];
  fn: F;
}
type FilterFn = (v: unknown, a: Args) => unknown;
type TestFn = (v: unknown, a: Args) => boolean;

/** Positional-or-keyword access to a call's arguments, by Python parameter order. */
class Args {
  constructor(
    private readonly call: CallArgs,
    private readonly names: readonly string[],
    readonly col: number,
    readonly what: string,
  ) {}
  has(name: string): boolean {
    const i = this.names.indexOf(name);
    return (i >= 0 && i < this.call.args.length) || Object.hasOwn(this.call.kwargs, name);
  }
  get(name: string, dflt?: unknown): unknown {
    const i = this.names.indexOf(name);
    const v =
      i >= 0 && i < this.call.args.length
        ? this.call.args[i]
        : Object.hasOwn(this.call.kwargs, name)
          ? this.call.kwargs[name]
          : dflt;
    return need(v);
  }
  /** Positional arguments from index `from` on (for combine, map's extra arguments). */
  /** Every keyword argument (for filters that take any: format). */
  kwargsAll(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this.call.kwargs).map(([k, v]) => [k, need(v)]));
  }
  rest(from: number): unknown[] {
    return this.call.args.slice(from).map((v) => need(v));
  }
  raw(name: string): unknown {
    const i = this.names.indexOf(name);
    return i >= 0 && i < this.call.args.length ? this.call.args[i] : this.call.kwargs[name];
  }
  str(name: string, dflt?: string): string {
    const v = this.get(name, dflt);
    if (typeof v !== 'string') throw this.error(`argument "${name}" must be a string, got ${typeName(v)}`);
    return v;
  }
  bool(name: string, dflt = false): boolean {
    return truthy(this.get(name, dflt));
  }
  error(msg: string): ExprError {
    return new ExprError(`${this.what}: ${msg}`, this.col);
  }
}

const f = (
  min: number,
  max: number,
  names: readonly string[],
  fn: FilterFn,
  extraKw: readonly string[] | '*' = [],
): FilterSpec => ({
  min,
  max,
  kwargs: extraKw === '*' ? '*' : [...names, ...extraKw],
  names,
  fn,
});

type FilterSpec = Omit<Spec<FilterFn>, 'kwargs'> & { kwargs: readonly string[] | '*'; names: readonly string[] };

function list(v: unknown, a: Args): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isPlainObject(v)) return Object.keys(v);
  throw a.error(`needs a list, got ${typeName(v)}`);
}

function dict(v: unknown, a: Args): Record<string, unknown> {
  if (!isPlainObject(v)) throw a.error(`needs a dict, got ${typeName(v)}`);
  return v;
}

/** Jinja's attribute lookup for map/selectattr/sort: "a.b" and "a.0" go deeper. */
function attrOf(item: unknown, path: string, _a: Args): unknown {
  let cur: unknown = item;
  for (const part of path.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
    else if (isPlainObject(cur) && Object.hasOwn(cur, part)) cur = cur[part];
    else return new Undef(`item.${path}`);
  }
  return cur;
}

function toInt(v: unknown, dflt: unknown, base = 10): unknown {
  if (isNumber(v)) return Math.trunc(v.valueOf());
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const s = v.trim();
    if (base === 10 && /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Math.trunc(Number(s));
    if (base !== 10) {
      const n = parseInt(s.replace(/^0[xob]/i, ''), base);
      if (!Number.isNaN(n)) return n;
    }
  }
  return dflt;
}

const BOOL_TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't']);

function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (isNumber(v)) return v.valueOf() === 1;
  if (typeof v === 'string') return BOOL_TRUE.has(v.trim().toLowerCase());
  return false;
}

/** Python-like sort key comparison (numbers and strings, lists element-wise). */
function cmp(x: unknown, y: unknown, a: Args, caseSensitive: boolean): number {
  const norm = (v: unknown) => (typeof v === 'string' && !caseSensitive ? v.toLowerCase() : v);
  const p = norm(x);
  const q = norm(y);
  if (isNumber(p) && isNumber(q)) return p.valueOf() - q.valueOf();
  if (typeof p === 'string' && typeof q === 'string') return p < q ? -1 : p > q ? 1 : 0;
  if (typeof p === 'boolean' && typeof q === 'boolean') return Number(p) - Number(q);
  if (p instanceof PyDate && q instanceof PyDate && p.comparable(q)) return p.time() - q.time();
  if (Array.isArray(p) && Array.isArray(q)) {
    // Lists and tuples element-wise, then the shorter first, as Python orders them.
    for (let i = 0; i < Math.min(p.length, q.length); i++) {
      const c = cmp(p[i], q[i], a, caseSensitive);
      if (c) return c;
    }
    return p.length - q.length;
  }
  throw a.error(`cannot compare ${typeName(x)} with ${typeName(y)}`);
}

/** A Python pattern with the call's ignorecase/multiline arguments; `global` for every match. */
function regex(pattern: string, a: Args, global = false): RegExp {
  try {
    const re = pyRegex(pattern, 'pattern', { ignorecase: a.bool('ignorecase'), multiline: a.bool('multiline') });
    return global ? new RegExp(re.source, `${re.flags}g`) : re;
  } catch (e) {
    throw a.error((e as Error).message);
  }
}

/** Python's json.dumps(v, indent, sort_keys, ensure_ascii, separators). */
function jsonOf(v: unknown, indent?: number, sortKeys = false, ascii = true, separators?: string[]): string {
  const [itemSep, keySep] = separators ?? [indent !== undefined ? ',' : ', ', ': '];
  const str = (x: string) => {
    const j = JSON.stringify(x);
    return ascii ? j.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : j;
  };
  const walk = (x: unknown, depth: number): string => {
    if (x instanceof Undef) throw new UndefinedVarError(x.path);
    if (x === null || x === undefined) return 'null';
    if (typeof x === 'boolean') return x ? 'true' : 'false';
    if (isNumber(x)) {
      const n = x.valueOf();
      return Number.isNaN(n) ? 'NaN' : !Number.isFinite(n) ? (n > 0 ? 'Infinity' : '-Infinity') : numberRepr(x);
    }
    if (typeof x === 'string') return str(x);
    if (x instanceof PyDate) return str(x.isoformat()); // Ansible's JSON encoder
    const pad = indent !== undefined ? `\n${' '.repeat(indent * (depth + 1))}` : '';
    const end = indent !== undefined ? `\n${' '.repeat(indent * depth)}` : '';
    if (Array.isArray(x))
      return x.length ? `[${pad}${x.map((i) => walk(i, depth + 1)).join(itemSep + pad)}${end}]` : '[]';
    if (isPlainObject(x)) {
      const keys = sortKeys ? Object.keys(x).sort() : Object.keys(x);
      return keys.length
        ? `{${pad}${keys.map((k) => `${str(k)}${keySep}${walk(x[k], depth + 1)}`).join(itemSep + pad)}${end}}`
        : '{}';
    }
    return str(String(x));
  };
  return walk(v, 0);
}

/** Python's str.strip/lstrip/rstrip(chars). */
export function pyStrip(s: string, chars: unknown, side: 'both' | 'left' | 'right'): string {
  const set = chars === null || chars === undefined ? undefined : new Set([...toStr(chars)]);
  const strip = (c: string) => (set ? set.has(c) : /\s/.test(c));
  const cs = [...s];
  let i = 0;
  let j = cs.length;
  if (side !== 'right') while (i < j && strip(cs[i])) i++;
  if (side !== 'left') while (j > i && strip(cs[j - 1])) j--;
  return cs.slice(i, j).join('');
}

function extreme(items: unknown[], a: Args, dir: 1 | -1): unknown {
  if (!items.length) return new Undef('No aggregated item, sequence was empty.');
  const key = (x: unknown) =>
    a.has('attribute') && a.get('attribute') !== null ? need(attrOf(x, toStr(a.get('attribute')), a)) : x;
  return items.reduce((x, y) => (cmp(key(y), key(x), a, a.bool('case_sensitive')) * dir > 0 ? y : x));
}

function mapWith(items: unknown[], a: Args, name: string, args: unknown[]): unknown[] {
  if (name === 'default' || name === 'd' || name === 'mandatory')
    return items.map((item) => applyFilter(name, item, { args, kwargs: {} }, a.col));
  if (!Object.hasOwn(FILTERS, name)) throw a.error(`unknown filter "${name}"`);
  return items.map((item) => applyFilter(name, item, { args, kwargs: {} }, a.col));
}

function selectWith(items: unknown[], a: Args, keep: boolean, attr?: string): unknown[] {
  const testName =
    attr === undefined ? (a.has('test') ? a.str('test') : undefined) : a.has('test') ? a.str('test') : undefined;
  if (testName !== undefined && !Object.hasOwn(TESTS, testName)) throw a.error(`unknown test "${testName}"`);
  const from = attr === undefined ? 1 : 2;
  const args = a.rest(from);
  return items.filter((item) => {
    const v = attr === undefined ? item : attrOf(item, attr, a);
    const ok =
      testName === undefined
        ? truthy(v instanceof Undef ? undefined : v)
        : applyTest(testName, v, { args, kwargs: {} }, a.col);
    return ok === keep;
  });
}

function combine(dicts: Record<string, unknown>[], recursive: boolean, listMerge: string): Record<string, unknown> {
  const merge = (x: Record<string, unknown>, y: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...x };
    for (const [k, v] of Object.entries(y)) {
      const old = out[k];
      if (recursive && isPlainObject(old) && isPlainObject(v)) out[k] = merge(old, v);
      else if (Array.isArray(old) && Array.isArray(v) && listMerge === 'append') out[k] = [...old, ...v];
      else if (Array.isArray(old) && Array.isArray(v) && listMerge === 'prepend') out[k] = [...v, ...old];
      else out[k] = v;
    }
    return out;
  };
  return dicts.reduce(merge, {});
}

// Each filter: min/max positional arguments, parameter names (Python order; also usable as keywords).
const FILTER_SPECS = {
  default: f(0, 2, ['default_value', 'boolean'], (v, a) => {
    if (v instanceof Undef || (a.bool('boolean') && !truthy(v))) return a.get('default_value', '');
    return v;
  }),
  mandatory: f(0, 1, ['msg'], (v, a) => {
    if (v instanceof Undef) throw a.has('msg') ? a.error(String(a.get('msg'))) : new UndefinedVarError(v.path);
    return v;
  }),
  bool: f(0, 0, [], (v) => (v === null ? null : toBool(v))), // Ansible's: None stays None
  int: f(0, 2, ['default', 'base'], (v, a) => toInt(v, a.get('default', 0), Number(a.get('base', 10)))),
  float: f(0, 1, ['default'], (v, a) => {
    if (isNumber(v) || typeof v === 'boolean') return float(Number(v));
    const n = typeof v === 'string' ? pyFloatOf(v) : undefined;
    return n === undefined ? a.get('default', float(0)) : float(n);
  }),
  string: f(0, 0, [], (v) => toStr(v)),
  lower: f(0, 0, [], (v) => toStr(v).toLowerCase()),
  upper: f(0, 0, [], (v) => toStr(v).toUpperCase()),
  capitalize: f(0, 0, [], (v) => {
    const s = toStr(v);
    return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
  }),
  trim: f(0, 1, ['chars'], (v, a) => pyStrip(toStr(v), a.get('chars', null), 'both')),
  length: f(0, 0, [], (v, a) => {
    if (typeof v === 'string') return [...v].length;
    if (Array.isArray(v)) return v.length;
    if (isPlainObject(v)) return Object.keys(v).length;
    throw a.error(`needs a string, list or dict, got ${typeName(v)}`);
  }),
  join: f(0, 2, ['d', 'attribute'], (v, a) => {
    let items = list(v, a);
    if (a.has('attribute')) items = items.map((x) => need(attrOf(x, String(a.get('attribute')), a)));
    return items.map(toStr).join(toStr(a.get('d', '')));
  }),
  replace: f(2, 3, ['old', 'new', 'count'], (v, a) => {
    const s = toStr(v);
    const [old, neu] = [toStr(a.get('old')), toStr(a.get('new'))];
    const count = a.has('count') ? Number(a.get('count')) : -1;
    if (count < 0) return s.split(old).join(neu);
    let out = s;
    let from = 0;
    for (let n = 0; n < count; n++) {
      const i = out.indexOf(old, from);
      if (i < 0) break;
      out = out.slice(0, i) + neu + out.slice(i + old.length);
      from = i + neu.length;
    }
    return out;
  }),
  regex_replace: f(
    0,
    4,
    ['pattern', 'replacement', 'ignorecase', 'multiline'],
    (v, a) => {
      const re = regex(a.str('pattern', ''), a, true);
      const repl = a.str('replacement', '');
      const count = Number(a.get('count', 0));
      const text = toStr(v);
      let out = '';
      let last = 0;
      let n = 0;
      for (const m of text.matchAll(re)) {
        if (count > 0 && n++ >= count) break;
        out += text.slice(last, m.index) + pyExpand(repl, m as RegExpExecArray);
        last = m.index! + m[0].length;
      }
      return out + text.slice(last);
    },
    ['count'],
  ),
  regex_search: f(
    1,
    10,
    ['pattern'],
    (v, a) => {
      const re = regex(a.str('pattern'), a);
      const m = re.exec(toStr(v));
      if (!m) return null;
      const groups = a.rest(1).map(String);
      if (!groups.length) return m[0];
      return groups.map((g) => {
        const key = g.replace(/^\\/, '').replace(/^g<(.*)>$/, '$1');
        return /^\d+$/.test(key) ? m[Number(key)] : m.groups?.[key];
      });
    },
    ['ignorecase', 'multiline'],
  ),
  regex_findall: f(
    1,
    1,
    ['pattern'],
    (v, a) => {
      const re = regex(a.str('pattern'), a, true);
      // Python's findall: the match, its one group, or a tuple of its groups ('' for one that took no part).
      return [...toStr(v).matchAll(re)].map((m) =>
        m.length > 2 ? tuple(m.slice(1).map((g) => g ?? '')) : m.length === 2 ? (m[1] ?? '') : m[0],
      );
    },
    ['ignorecase', 'multiline'],
  ),
  regex_escape: f(0, 1, ['re_type'], (v, a) => {
    const type = String(a.get('re_type', 'python'));
    // Python's re.escape: only the characters special in a pattern (and whitespace).
    if (type === 'python') return toStr(v).replace(/[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g, '\\$&');
    if (type === 'posix_basic') return toStr(v).replace(/[\].[^$*\\]/g, '\\$&');
    throw a.error(
      type === 'posix_extended' ? `Regex type (${type}) not yet implemented` : `Invalid regex type (${type})`,
    );
  }),
  to_json: f(
    0,
    0,
    [],
    (v, a) =>
      jsonOf(
        v,
        a.has('indent') && a.get('indent') !== null ? Number(a.get('indent')) : undefined,
        a.bool('sort_keys'),
        a.has('ensure_ascii') ? a.bool('ensure_ascii') : true,
        a.has('separators') ? (a.get('separators') as string[]) : undefined,
      ),
    ['indent', 'sort_keys', 'ensure_ascii', 'separators'],
  ),
  to_nice_json: f(
    0,
    0,
    [],
    (v, a) =>
      jsonOf(
        v,
        Number(a.get('indent', 4)),
        a.has('sort_keys') ? a.bool('sort_keys') : true,
        a.has('ensure_ascii') ? a.bool('ensure_ascii') : true,
      ),
    ['indent', 'sort_keys', 'ensure_ascii'],
  ),
  from_json: f(0, 10, [], (v, a) => {
    try {
      return jsonParse(toStr(v));
    } catch (e) {
      throw a.error(`not JSON: ${(e as Error).message}`);
    }
  }),
  to_yaml: f(
    0,
    0,
    [],
    (v, a) =>
      pyYamlDump(v, {
        indent: Number(a.get('indent', 2)),
        flow: a.get('default_flow_style', null) !== false,
        width: a.has('width') ? Number(a.get('width')) : undefined,
      }),
    ['indent', 'default_flow_style', 'width', 'sort_keys', 'explicit_start'],
  ),
  to_nice_yaml: f(
    0,
    1,
    ['indent'],
    (v, a) =>
      pyYamlDump(v, { indent: Number(a.get('indent', 4)), width: a.has('width') ? Number(a.get('width')) : undefined }),
    ['width', 'sort_keys'],
  ),
  from_yaml: f(0, 0, [], (v, a) => {
    try {
      return parseYaml(toStr(v), PYYAML);
    } catch (e) {
      throw a.error(`not YAML: ${(e as Error).message}`);
    }
  }),
  b64encode: f(0, 0, [], (v) => Buffer.from(toStr(v), 'utf8').toString('base64'), ['encoding']),
  b64decode: f(0, 0, [], (v) => Buffer.from(toStr(v), 'base64').toString('utf8'), ['encoding']),
  dict2items: f(
    0,
    0,
    [],
    (v, a) =>
      Object.entries(dict(v, a)).map(([k, x]) => ({
        [String(a.get('key_name', 'key'))]: k,
        [String(a.get('value_name', 'value'))]: x,
      })),
    ['key_name', 'value_name'],
  ),
  items2dict: f(
    0,
    0,
    [],
    (v, a) => {
      const [kn, vn] = [String(a.get('key_name', 'key')), String(a.get('value_name', 'value'))];
      const out: Record<string, unknown> = {};
      for (const item of list(v, a)) {
        if (!isPlainObject(item) || !Object.hasOwn(item, kn) || !Object.hasOwn(item, vn))
          throw a.error(`each item needs "${kn}" and "${vn}"`);
        Object.defineProperty(out, toStr(item[kn]), {
          value: item[vn],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    },
    ['key_name', 'value_name'],
  ),
  selectattr: f(1, 10, ['attr', 'test'], (v, a) => selectWith(list(v, a), a, true, a.str('attr'))),
  rejectattr: f(1, 10, ['attr', 'test'], (v, a) => selectWith(list(v, a), a, false, a.str('attr'))),
  select: f(0, 10, ['test'], (v, a) => selectWith(list(v, a), a, true)),
  reject: f(0, 10, ['test'], (v, a) => selectWith(list(v, a), a, false)),
  map: f(
    0,
    10,
    ['filter'],
    (v, a) => {
      const items = list(v, a);
      if (a.has('attribute')) {
        const path = String(a.get('attribute'));
        // A missing attribute is undefined (a later default() may fill it), as in Jinja.
        return items.map((x) => {
          const r = attrOf(x, path, a);
          return r instanceof Undef && a.has('default') ? a.get('default') : r;
        });
      }
      if (!a.has('filter')) throw a.error('needs a filter name or attribute=');
      return mapWith(items, a, a.str('filter'), a.rest(1));
    },
    ['attribute', 'default'],
  ),
  first: f(0, 0, [], (v, a) => {
    const l = list(v, a);
    return l.length ? l[0] : new Undef('(first of an empty list)');
  }),
  last: f(0, 0, [], (v, a) => {
    const l = list(v, a);
    return l.length ? l[l.length - 1] : new Undef('(last of an empty list)');
  }),
  // Jinja's unique (which Ansible's calls): case-insensitive unless case_sensitive=true.
  unique: f(0, 2, ['case_sensitive', 'attribute'], (v, a) => {
    const cs = a.bool('case_sensitive');
    const key = (x: unknown) => {
      const k = a.has('attribute') && a.get('attribute') !== null ? need(attrOf(x, toStr(a.get('attribute')), a)) : x;
      return typeof k === 'string' && !cs ? k.toLowerCase() : k;
    };
    const items = list(v, a);
    const keys = items.map(key);
    return items.filter((_, i) => keys.findIndex((k) => deepEqual(k, keys[i])) === i);
  }),
  sort: f(0, 3, ['reverse', 'case_sensitive', 'attribute'], (v, a) => {
    const key = (x: unknown) => (a.has('attribute') ? need(attrOf(x, String(a.get('attribute')), a)) : x);
    const out = [...list(v, a)].sort((x, y) => cmp(key(x), key(y), a, a.bool('case_sensitive')));
    return a.bool('reverse') ? out.reverse() : out;
  }),
  reverse: f(0, 0, [], (v, a) => (typeof v === 'string' ? [...v].reverse().join('') : [...list(v, a)].reverse())),
  list: f(0, 0, [], (v, a) => [...list(v, a)]),
  min: f(0, 2, ['case_sensitive', 'attribute'], (v, a) => extreme(list(v, a), a, -1)),
  max: f(0, 2, ['case_sensitive', 'attribute'], (v, a) => extreme(list(v, a), a, 1)),
  sum: f(0, 1, ['attribute', 'start'], (v, a) =>
    list(v, a).reduce(
      (x: unknown, y) => {
        const item = a.has('attribute') ? need(attrOf(y, String(a.get('attribute')), a)) : y;
        if (Array.isArray(x) && Array.isArray(item)) return [...x, ...item]; // sum(start=[]) of lists
        const n = Number(x) + Number(item);
        return isFloat(x) || isFloat(item) ? float(n) : n;
      },
      a.get('start', 0),
    ),
  ),
  flatten: f(0, 2, ['levels', 'skip_nulls'], (v, a) => {
    const flat = (l: unknown[], depth: number): unknown[] =>
      l.flatMap((x) =>
        skipNulls && (x === null || x === 'None' || x === 'null')
          ? []
          : Array.isArray(x) && depth !== 0
            ? flat(x, depth - 1)
            : [x],
      );
    const skipNulls = a.has('skip_nulls') ? a.bool('skip_nulls') : true;
    return flat(list(v, a), a.has('levels') && a.get('levels') !== null ? Number(a.get('levels')) : -1);
  }),
  combine: f(
    0,
    10,
    [],
    (v, a) => {
      // Ansible flattens one level: `[d1, d2] | combine` and `d1 | combine([d2, d3])` both work.
      const dicts = [v, ...a.rest(0)].flatMap((d) => (Array.isArray(d) ? d : [d])).map((d) => dict(d, a));
      return combine(dicts, a.bool('recursive'), String(a.get('list_merge', 'replace')));
    },
    ['recursive', 'list_merge'],
  ),
  indent: f(0, 3, ['width', 'first', 'blank'], (v, a) => {
    const w = a.get('width', 4);
    const pad = typeof w === 'string' ? w : ' '.repeat(Number(w));
    return toStr(v)
      .split('\n')
      .map((line, i) => ((i === 0 && !a.bool('first')) || (line === '' && !a.bool('blank')) ? line : pad + line))
      .join('\n');
  }),
  // Python's shlex.quote, which Ansible's quote is.
  quote: f(0, 0, [], (v) => {
    const s = toStr(v);
    return s !== '' && /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'"'"'`)}'`;
  }),
  basename: f(
    0,
    0,
    [],
    (v) =>
      toStr(v)
        .replace(/\/+$/, (m) => (m.length === toStr(v).length ? '/' : ''))
        .split('/')
        .pop() ?? '',
  ),
  dirname: f(0, 0, [], (v) => {
    const s = toStr(v);
    const i = s.lastIndexOf('/');
    return i < 0 ? '' : i === 0 ? '/' : s.slice(0, i);
  }),
  ternary: f(2, 3, ['true_val', 'false_val', 'none_val'], (v, a) =>
    v === null && a.has('none_val') ? a.get('none_val') : truthy(v) ? a.get('true_val') : a.get('false_val'),
  ),
  abs: f(0, 0, [], (v, a) => {
    if (!isNumber(v)) throw a.error(`needs a number, got ${typeName(v)}`);
    return isFloat(v) ? float(Math.abs(v.valueOf())) : Math.abs(v.valueOf());
  }),
  round: f(0, 2, ['precision', 'method'], (v, a) => {
    const n = Number(a.get('precision', 0));
    const m = String(a.get('method', 'common'));
    if (!['common', 'ceil', 'floor'].includes(m)) throw a.error('method must be common, ceil or floor');
    const x = number(v, a);
    // Python's round() of an int is an int; of a float, and Jinja's ceil/floor, a float.
    if (m === 'common') return isInt(v) && isInt(n) && n >= 0 ? x : float(pyRound(x, n));
    const p = 10 ** n;
    return float((m === 'ceil' ? Math.ceil(x * p) : Math.floor(x * p)) / p);
  }),
  split: f(0, 2, ['sep', 'maxsplit'], (v, a) =>
    pySplit(toStr(v), a.has('sep') ? a.get('sep') : null, Number(a.get('maxsplit', -1))),
  ),
  zip: f(0, 10, [], (v, a) => {
    const lists = [list(v, a), ...a.rest(0).map((l) => list(l, a))];
    const n = Math.min(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_, i) => tuple(lists.map((l) => l[i])));
  }),
  dict: f(0, 0, [], (v, a) =>
    Object.fromEntries(list(v, a).map((p) => (Array.isArray(p) ? [toStr(p[0]), p[1]] : [toStr(p), undefined]))),
  ),
  items: f(0, 0, [], (v, a) => Object.entries(dict(v, a)).map((p) => tuple(p))),
  random: f(0, 3, ['start', 'step', 'seed'], (v, a) => {
    if (isInt(v)) {
      const start = Number(a.get('start', 0) ?? 0) || 0;
      const step = Number(a.get('step', 1) ?? 1) || 1;
      const n = Math.ceil((v - start) / step);
      if (n <= 0) throw a.error(`empty range for randrange(${start}, ${v}, ${step})`);
      return start + step * Math.floor(Math.random() * n);
    }
    if (a.has('start') || a.has('step')) throw a.error('start and step can only be used with integer values');
    const l = list(v, a);
    if (!l.length) throw a.error('Cannot choose from an empty sequence');
    return l[Math.floor(Math.random() * l.length)];
  }),
  hash: f(0, 1, ['hashtype'], (v, a) => nodeHash(String(a.get('hashtype', 'sha1')), toStr(v), a)),
  checksum: f(0, 0, [], (v, a) => nodeHash('sha1', toStr(v), a)),
  sha1: f(0, 0, [], (v, a) => nodeHash('sha1', toStr(v), a)),
  md5: f(0, 0, [], (v, a) => nodeHash('md5', toStr(v), a)),
  password_hash: f(0, 5, ['hashtype', 'salt', 'salt_size', 'rounds', 'ident'], (v, a) => {
    const type = String(a.get('hashtype', 'sha512'));
    const algo =
      (
        { md5: 'md5_crypt', sha256: 'sha256_crypt', sha512: 'sha512_crypt', blowfish: 'bcrypt' } as Record<
          string,
          string
        >
      )[type] ?? type;
    const rounds = a.has('rounds') && a.get('rounds') !== null ? Number(a.get('rounds')) : undefined;
    const given = a.has('salt') && a.get('salt') !== null ? toStr(a.get('salt')) : undefined;
    if (given !== undefined && !/^[./0-9A-Za-z]*$/.test(given)) throw a.error(`invalid characters in salt`);
    const size = a.has('salt_size') && a.get('salt_size') !== null ? Number(a.get('salt_size')) : undefined;
    if (algo === 'sha512_crypt' || algo === 'sha256_crypt')
      return shaCrypt(algo === 'sha512_crypt' ? 'sha512' : 'sha256', toStr(v), given ?? randomSalt(size ?? 16), rounds);
    if (algo === 'md5_crypt') return md5Crypt(toStr(v), given ?? randomSalt(size ?? 8));
    throw a.error(
      `hash type "${type}" is not supported (sha512, sha256 and md5 are; ${algo} needs a library relay-play does not have)`,
    );
  }),
  to_uuid: f(0, 1, ['namespace'], (v, a) =>
    uuid5(toStr(a.get('namespace', '361E6D51-FAEC-444A-9079-341386DA8E2E')), toStr(v), a),
  ),
  // ---- Jinja's built-in filters
  attr: f(1, 1, ['name'], (v, a) => new Undef(`${typeName(v)} object has no attribute '${toStr(a.get('name'))}'`)),
  batch: f(1, 2, ['linecount', 'fill_with'], (v, a) => {
    const n = Number(a.get('linecount'));
    if (!(n >= 1)) throw a.error('linecount must be at least 1');
    const items = list(v, a);
    const out: unknown[][] = [];
    for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
    const fill = a.get('fill_with', null);
    if (fill !== null && out.length && out[out.length - 1].length < n)
      out[out.length - 1].push(...Array(n - out[out.length - 1].length).fill(fill));
    return out;
  }),
  center: f(0, 1, ['width'], (v, a) => center(toStr(v), Number(a.get('width', 80)))),
  dictsort: f(0, 3, ['case_sensitive', 'by', 'reverse'], (v, a) => {
    const by = String(a.get('by', 'key'));
    if (by !== 'key' && by !== 'value') throw a.error('You can only sort by either "key" or "value"');
    const i = by === 'key' ? 0 : 1;
    const out = Object.entries(dict(v, a))
      .map((p) => tuple(p))
      .sort((x, y) => cmp(x[i], y[i], a, a.bool('case_sensitive')));
    return a.bool('reverse') ? out.reverse() : out;
  }),
  escape: f(0, 0, [], (v) => htmlEscape(toStr(v))),
  forceescape: f(0, 0, [], (v) => htmlEscape(toStr(v))),
  filesizeformat: f(0, 1, ['binary'], (v, a) => {
    const bytes = Number(v);
    const binary = a.bool('binary');
    const base = binary ? 1024 : 1000;
    const prefixes = binary
      ? ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB']
      : ['kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
    if (bytes === 1) return '1 Byte';
    if (bytes < base) return `${Math.trunc(bytes)} Bytes`;
    for (const [i, prefix] of prefixes.entries()) {
      const unit = base ** (i + 2);
      if (bytes < unit) return `${((base * bytes) / unit).toFixed(1)} ${prefix}`;
    }
    return `${((base * bytes) / base ** (prefixes.length + 1)).toFixed(1)} ${prefixes[prefixes.length - 1]}`;
  }),
  format: f(
    0,
    20,
    [],
    (v, a) => {
      const kw = a.kwargsAll();
      if (Object.keys(kw).length && a.rest(0).length)
        throw a.error("can't handle positional and keyword arguments at the same time");
      try {
        return percentFormat(
          toStr(v),
          Object.keys(kw).length
            ? kw
            : a.rest(0).length === 1 && isPlainObject(a.rest(0)[0])
              ? (a.rest(0)[0] as Record<string, unknown>)
              : a.rest(0),
        );
      } catch (e) {
        if (e instanceof FormatError) throw a.error(e.message);
        throw e;
      }
    },
    '*',
  ),
  groupby: f(1, 3, ['attribute', 'default', 'case_sensitive'], (v, a) => {
    const path = String(a.get('attribute'));
    const key = (x: unknown) => {
      const r = attrOf(x, path, a);
      return r instanceof Undef ? (a.has('default') ? a.get('default') : need(r)) : r;
    };
    const cs = a.bool('case_sensitive');
    const norm = (x: unknown) => (typeof x === 'string' && !cs ? x.toLowerCase() : x);
    const sorted = [...list(v, a)].sort((x, y) => cmp(norm(key(x)), norm(key(y)), a, true));
    const out: [unknown, unknown[]][] = [];
    for (const item of sorted) {
      const last = out[out.length - 1];
      if (last && deepEqual(norm(key(last[1][0])), norm(key(item)))) last[1].push(item);
      else out.push(tuple([key(item), [item]]));
    }
    return out;
  }),
  pprint: f(0, 0, [], (v) => pyRepr(v, true)),
  safe: f(0, 0, [], (v) => v),
  slice: f(1, 2, ['slices', 'fill_with'], (v, a) => {
    const items = list(v, a);
    const n = Number(a.get('slices'));
    const fill = a.get('fill_with', null);
    const per = Math.floor(items.length / n);
    const extra = items.length % n;
    const out: unknown[][] = [];
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const start = offset + i * per;
      if (i < extra) offset++;
      const part = items.slice(start, offset + (i + 1) * per);
      if (fill !== null && i >= extra) part.push(fill);
      out.push(part);
    }
    return out;
  }),
  striptags: f(0, 0, [], (v) =>
    htmlUnescape(
      toStr(v)
        .replace(/<!--[\s\S]*?(-->|$)/g, '')
        .replace(/<[^>]*>/g, ''),
    )
      .split(/\s+/)
      .filter(Boolean)
      .join(' '),
  ),
  title: f(0, 0, [], (v) => title(toStr(v))),
  tojson: f(0, 1, ['indent'], (v, a) =>
    jsonOf(v, a.has('indent') && a.get('indent') !== null ? Number(a.get('indent')) : undefined, true)
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e')
      .replace(/&/g, '\\u0026')
      .replace(/'/g, '\\u0027'),
  ),
  truncate: f(0, 4, ['length', 'killwords', 'end', 'leeway'], (v, a) => {
    const s = toStr(v);
    const length = Number(a.get('length', 255));
    const end = toStr(a.get('end', '...'));
    const leeway = Number(a.get('leeway', 5));
    if (length < end.length) throw a.error(`expected length >= ${end.length}, got ${length}`);
    if (leeway < 0) throw a.error(`expected leeway >= 0, got ${leeway}`);
    if ([...s].length <= length + leeway) return s;
    if (a.bool('killwords')) return s.slice(0, length - end.length) + end;
    const cut = s.slice(0, length - end.length);
    const i = cut.lastIndexOf(' ');
    return (i < 0 ? cut : cut.slice(0, i)) + end;
  }),
  urlencode: f(0, 0, [], (v) => {
    if (typeof v === 'string') return pyQuote(v, '/');
    const pairs = isPlainObject(v) ? Object.entries(v) : Array.isArray(v) ? (v as unknown[][]) : undefined;
    if (!pairs) return pyQuote(toStr(v), '/');
    return pairs.map(([k, x]) => `${pyQuote(toStr(k), '', true)}=${pyQuote(toStr(x), '', true)}`).join('&');
  }),
  urlize: f(0, 4, ['trim_url_limit', 'nofollow', 'target', 'rel'], (v, a) => urlize(toStr(v), a)),
  wordcount: f(0, 0, [], (v) => (toStr(v).match(/[\p{L}\p{N}_]+/gu) ?? []).length),
  wordwrap: f(0, 4, ['width', 'break_long_words', 'wrapstring', 'break_on_hyphens'], (v, a) =>
    wordwrap(
      toStr(v),
      Number(a.get('width', 79)),
      a.has('break_long_words') ? a.bool('break_long_words') : true,
      toStr(a.get('wrapstring', '\n')),
      a.has('break_on_hyphens') ? a.bool('break_on_hyphens') : true,
    ),
  ),
  xmlattr: f(0, 1, ['autospace'], (v, a) => {
    const parts = Object.entries(dict(v, a))
      .filter(([, x]) => x !== null && !(x instanceof Undef))
      .map(([k, x]) => {
        if (/[\s/>=]/.test(k)) throw a.error(`Invalid character in attribute name: ${JSON.stringify(k)}`);
        return `${htmlEscape(k)}="${htmlEscape(toStr(x))}"`;
      })
      .join(' ');
    return parts && (a.has('autospace') ? a.bool('autospace') : true) ? ` ${parts}` : parts;
  }),
  // ---- Ansible's filters (ansible.builtin)
  comment: f(0, 1, ['style'], (v, a) => commentFilter(toStr(v), String(a.get('style', 'plain')), a), [
    'decoration',
    'beginning',
    'end',
    'prefix',
    'prefix_count',
    'postfix',
    'postfix_count',
    'newline',
  ]),
  expanduser: f(0, 0, [], (v) => toStr(v).replace(/^~(?=\/|$)/, process.env.HOME ?? homedir())),
  expandvars: f(0, 0, [], (v) =>
    toStr(v).replace(/\$(\w+|\{([^}]*)\})/g, (whole, name: string, braced: string | undefined) => {
      const k = braced ?? name;
      return Object.hasOwn(process.env, k) ? process.env[k]! : whole;
    }),
  ),
  extract: f(1, 2, ['container', 'morekeys'], (v, a) => {
    const more = a.get('morekeys', null);
    const keys = [v, ...(more === null ? [] : Array.isArray(more) ? more : [more])];
    let cur: unknown = a.get('container');
    for (const k of keys) {
      if (Array.isArray(cur) && typeof k === 'number')
        cur = k >= -cur.length && k < cur.length ? cur.at(k) : new Undef(`[${k}]`);
      else if (isPlainObject(cur) && Object.hasOwn(cur, toStr(k))) cur = cur[toStr(k)];
      else cur = new Undef(`${typeName(cur)} object has no element ${pyRepr(k)}`);
      if (cur instanceof Undef) return cur;
    }
    return cur;
  }),
  fileglob: f(0, 0, [], (v) => globFiles(toStr(v))),
  from_yaml_all: f(0, 0, [], (v, a) => {
    if (typeof v !== 'string') return v;
    try {
      return parseAllDocuments(v, PYYAML).map((d) => {
        if (d.errors.length) throw d.errors[0];
        return d.toJS();
      });
    } catch (e) {
      throw a.error(`not YAML: ${(e as Error).message}`);
    }
  }),
  human_readable: f(0, 2, ['isbits', 'unit'], (v, a) => {
    const size = Number(v);
    if (Number.isNaN(size)) throw a.error(`human_readable() can't interpret following string: ${toStr(v)}`);
    const unit = a.get('unit', null);
    const base = a.bool('isbits') ? 'bits' : 'Bytes';
    let suffix = 'B';
    let limit = 1;
    for ([suffix, limit] of SIZE_RANGES) {
      if ((unit === null && size >= limit) || (unit !== null && toStr(unit).toUpperCase() === suffix[0])) break;
    }
    return `${(size / limit).toFixed(2)} ${limit !== 1 ? suffix + base[0] : base}`;
  }),
  human_to_bytes: f(0, 2, ['default_unit', 'isbits'], (v, a) => {
    const m = /^\s*(\d*\.?\d*)\s*([A-Za-z]+)?/.exec(toStr(v));
    const n = m && m[1] !== '' && m[1] !== '.' ? Number(m[1]) : NaN;
    if (Number.isNaN(n)) throw a.error(`human_to_bytes() can't interpret following string: ${toStr(v)}`);
    const unit = m![2] ?? (a.get('default_unit', null) as string | null);
    if (unit === null) return pyRound(n, 0);
    const limit = SIZE_RANGES.find(([k]) => k === unit[0].toUpperCase())?.[1];
    if (limit === undefined)
      throw a.error(
        `human_to_bytes() failed to convert ${toStr(v)} (unit = ${unit}). The suffix must be one of Y, Z, E, P, T, G, M, K, B`,
      );
    const cls = a.bool('isbits') ? 'b' : 'B';
    const clsName = a.bool('isbits') ? 'bit' : 'byte';
    if (unit.length > 1 && !unit.toLowerCase().includes(clsName) && unit[1] !== cls)
      throw a.error(`human_to_bytes() failed to convert ${toStr(v)}. Value is not a valid string`);
    return pyRound(n * limit, 0);
  }),
  intersect: f(1, 1, ['b'], (v, a) => {
    const b = list(a.get('b'), a);
    return uniq(list(v, a).filter((x) => b.some((y) => deepEqual(x, y))));
  }),
  difference: f(1, 1, ['b'], (v, a) => {
    const b = list(a.get('b'), a);
    return uniq(list(v, a).filter((x) => !b.some((y) => deepEqual(x, y))));
  }),
  symmetric_difference: f(1, 1, ['b'], (v, a) => {
    const [x, y] = [list(v, a), list(a.get('b'), a)];
    const both = x.filter((i) => y.some((j) => deepEqual(i, j)));
    return uniq([...x, ...y]).filter((i) => !both.some((j) => deepEqual(i, j)));
  }),
  union: f(1, 1, ['b'], (v, a) => uniq([...list(v, a), ...list(a.get('b'), a)])),
  log: f(0, 1, ['base'], (v, a) => {
    const x = number(v, a);
    const base = a.has('base') ? number(a.get('base'), a) : Math.E;
    return float(base === 10 ? Math.log10(x) : Math.log(x) / Math.log(base));
  }),
  pow: f(1, 1, ['y'], (v, a) => float(number(v, a) ** number(a.get('y'), a))),
  root: f(0, 1, ['base'], (v, a) => {
    const base = a.has('base') ? number(a.get('base'), a) : 2;
    return float(base === 2 ? Math.sqrt(number(v, a)) : number(v, a) ** (1 / base));
  }),
  path_join: f(0, 0, [], (v, a) => {
    if (typeof v === 'string') return v;
    return list(v, a)
      .map(toStr)
      .reduce((acc, p) => (p.startsWith('/') ? p : acc === '' || acc.endsWith('/') ? acc + p : `${acc}/${p}`), '');
  }),
  realpath: f(0, 0, [], (v) => {
    try {
      return realpathSync(posix.resolve(toStr(v)));
    } catch {
      return posix.resolve(toStr(v));
    }
  }),
  relpath: f(
    0,
    1,
    ['start'],
    (v, a) => posix.relative(posix.resolve(toStr(a.get('start', '.'))), posix.resolve(toStr(v))) || '.',
  ),
  splitext: f(0, 0, [], (v) => {
    const s = toStr(v);
    const base = s.slice(s.lastIndexOf('/') + 1);
    const i = base.lastIndexOf('.');
    if (i <= 0 || /^\.+$/.test(base.slice(0, i + 1))) return tuple([s, '']);
    const cut = s.length - base.length + i;
    return tuple([s.slice(0, cut), s.slice(cut)]);
  }),
  win_basename: f(0, 0, [], (v) => win32.basename(toStr(v)) || (/[\\/]$/.test(toStr(v)) ? '' : '')),
  win_dirname: f(0, 0, [], (v) => winSplit(toStr(v))[0]),
  win_splitdrive: f(0, 0, [], (v) => {
    const s = toStr(v);
    const m = /^(?:[A-Za-z]:|[\\/]{2}[^\\/]+[\\/]+[^\\/]+)/.exec(s);
    return tuple(m ? [m[0], s.slice(m[0].length)] : ['', s]);
  }),
  product: f(
    0,
    10,
    [],
    (v, a) => {
      const lists = [list(v, a), ...a.rest(0).map((l) => list(l, a))];
      const repeat = a.has('repeat') ? Number(a.get('repeat')) : 1;
      const all = Array.from({ length: repeat }, () => lists).flat();
      return all
        .reduce<unknown[][]>((acc, l) => acc.flatMap((p) => l.map((x) => [...p, x])), [[]])
        .map((p) => tuple(p));
    },
    ['repeat'],
  ),
  permutations: f(0, 1, ['r'], (v, a) => {
    const items = list(v, a);
    const r = a.has('r') && a.get('r') !== null ? Number(a.get('r')) : items.length;
    const out: unknown[][] = [];
    const walk = (prefix: unknown[], rest: number[]) => {
      if (prefix.length === r) return void out.push(tuple(prefix));
      rest.forEach((idx, k) => walk([...prefix, items[idx]], [...rest.slice(0, k), ...rest.slice(k + 1)]));
    };
    if (r <= items.length)
      walk(
        [],
        items.map((_, i) => i),
      );
    return out;
  }),
  combinations: f(1, 1, ['r'], (v, a) => {
    const items = list(v, a);
    const r = Number(a.get('r'));
    const out: unknown[][] = [];
    const walk = (start: number, prefix: unknown[]) => {
      if (prefix.length === r) return void out.push(tuple(prefix));
      for (let i = start; i < items.length; i++) walk(i + 1, [...prefix, items[i]]);
    };
    walk(0, []);
    return out;
  }),
  zip_longest: f(
    0,
    10,
    [],
    (v, a) => {
      const lists = [list(v, a), ...a.rest(0).map((l) => list(l, a))];
      const n = Math.max(...lists.map((l) => l.length));
      const fill = a.get('fillvalue', null);
      return Array.from({ length: n }, (_, i) => tuple(lists.map((l) => (i < l.length ? l[i] : fill))));
    },
    ['fillvalue'],
  ),
  rekey_on_member: f(1, 2, ['key', 'duplicates'], (v, a) => {
    const dup = String(a.get('duplicates', 'error'));
    if (dup !== 'error' && dup !== 'overwrite')
      throw a.error(`duplicates parameter to rekey_on_member has unknown value: ${dup}`);
    const items = isPlainObject(v) ? Object.values(v) : Array.isArray(v) ? v : undefined;
    if (!items) throw a.error('Type is not a valid list, set, or dict');
    const key = toStr(a.get('key'));
    const out: Record<string, unknown> = {};
    for (const item of items) {
      if (!isPlainObject(item)) throw a.error('List item is not a valid dict');
      if (!Object.hasOwn(item, key)) throw a.error(`Key ${key} was not found`);
      const k = toStr(item[key]);
      if (Object.hasOwn(out, k) && dup === 'error')
        throw a.error(`Key ${k} is not unique, cannot correctly turn into dict`);
      Object.defineProperty(out, k, { value: item, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }),
  shuffle: f(0, 1, ['seed'], (v, a) => {
    const out = [...list(v, a)];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }),
  strftime: f(0, 2, ['second', 'utc'], (v, a) => {
    const sec = a.has('second') && a.get('second') !== null ? Number(a.get('second')) : Date.now() / 1000;
    if (Number.isNaN(sec)) throw a.error(`Invalid value for epoch value (${toStr(a.get('second'))})`);
    return strftime(toStr(v), sec, a.bool('utc'));
  }),
  subelements: f(1, 2, ['subelements', 'skip_missing'], (v, a) =>
    subelementsOf(v, a.get('subelements'), a.bool('skip_missing'), a),
  ),
  type_debug: f(0, 0, [], (v) => pyTypeName(v)),
  urldecode: f(0, 0, [], (v) => decodeURIComponent(toStr(v).replace(/\+/g, ' '))),
  urlsplit: f(0, 1, ['query'], (v, a) => {
    const parts = urlSplit(toStr(v));
    if (!a.has('query')) return parts;
    const q = toStr(a.get('query'));
    if (!Object.hasOwn(parts, q)) throw a.error(`urlsplit: unknown URL component: ${q}`);
    return parts[q];
  }),
  vault: f(
    0,
    10,
    [],
    (_v, a) => {
      throw a.error('Ansible Vault is not supported');
    },
    '*',
  ),
  unvault: f(
    0,
    10,
    [],
    (_v, a) => {
      throw a.error('Ansible Vault is not supported');
    },
    '*',
  ),
  to_datetime: f(0, 1, ['format'], (_v, a) => {
    throw a.error('datetime arithmetic is not supported (use strftime with epoch seconds)');
  }),
  json_query: f(1, 1, ['expr'], (_v, a) => {
    throw a.error(
      'You need to install "jmespath" prior to running json_query filter (relay-play has no JMESPath: use selectattr/map)',
    );
  }),
};

function nodeHash(algo: string, text: string, a: Args): string {
  try {
    return createHash(algo).update(text, 'utf8').digest('hex');
  } catch {
    throw a.error(`unknown hash type "${algo}"`);
  }
}

const SIZE_RANGES: [string, number][] = [
  ['Y', 2 ** 80],
  ['Z', 2 ** 70],
  ['E', 2 ** 60],
  ['P', 2 ** 50],
  ['T', 2 ** 40],
  ['G', 2 ** 30],
  ['M', 2 ** 20],
  ['K', 2 ** 10],
  ['B', 1],
];

/** Python's round(x, n): correctly rounded on the exact value, exact halves to the even neighbour. */
export function pyRound(x: number, n: number): number {
  if (n >= 0) return Number(fixed(x, n));
  const p = 10 ** -n;
  return Number(fixed(x / p, 0)) * p;
}

/** Python's float() of a string: decimal, exponent, inf and nan, with spaces and underscores between digits. */
function pyFloatOf(s: string): number | undefined {
  const t = s.trim().toLowerCase();
  const special = /^([+-]?)(inf|infinity|nan)$/.exec(t);
  if (special) return special[2] === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  if (!/^[+-]?(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)(e[+-]?\d(_?\d)*)?$/.test(t)) return undefined;
  return Number(t.replace(/_/g, ''));
}

function uniq(items: unknown[]): unknown[] {
  return items.filter((x, i) => items.findIndex((y) => deepEqual(x, y)) === i);
}

function number(v: unknown, a: Args): number {
  if (isNumber(v)) return v.valueOf();
  if (typeof v === 'boolean') return Number(v);
  throw a.error(`needs a number, got ${typeName(v)}`);
}

function htmlEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&#34;')
    .replace(/'/g, '&#39;');
}

function htmlUnescape(s: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[A-Za-z]+);/g, (whole, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
    return named[e] ?? whole;
  });
}

/** urllib.parse.quote (and quote_plus for query strings). */
function pyQuote(s: string, safe: string, plus = false): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9_.~-]/.test(c) || safe.includes(c)) out += c;
    else if (plus && c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function urlize(text: string, a: Args): string {
  const limit =
    a.has('trim_url_limit') && a.get('trim_url_limit') !== null ? Number(a.get('trim_url_limit')) : undefined;
  const rels = new Set(toStr(a.get('rel', 'noopener')).split(/\s+/).filter(Boolean));
  if (a.bool('nofollow')) rels.add('nofollow');
  const rel = [...rels].sort().join(' ');
  const target = a.has('target') && a.get('target') !== null ? ` target="${htmlEscape(toStr(a.get('target')))}"` : '';
  const attrs = `${rel ? ` rel="${htmlEscape(rel)}"` : ''}${target}`;
  const trim = (u: string) =>
    limit !== undefined && u.length > limit ? `${u.slice(0, limit)}${u.length > 3 ? '...' : ''}` : u;
  return text
    .split(/(\s+)/)
    .map((word) => {
      const m = /^([(<]*)(.*?)([.,)>\n]*|&gt;)$/s.exec(word)!;
      const [, head, middle, tail] = m;
      let href: string | undefined;
      if (/^https?:\/\//.test(middle)) href = middle;
      else if (/^www\./.test(middle) || (/^[\w.-]+\.(org|net|com)$/.test(middle) && !middle.includes('@')))
        href = `https://${middle}`;
      else if (/^mailto:/.test(middle)) href = middle;
      else if (/^[^@\s]+@[\w.-]+\.\w+$/.test(middle) && !middle.includes(':')) href = `mailto:${middle}`;
      if (!href) return htmlEscape(word);
      const label = href.startsWith('mailto:') && !middle.startsWith('mailto:') ? middle : middle;
      const extra = href.startsWith('mailto:') ? '' : attrs;
      return `${htmlEscape(head)}<a href="${htmlEscape(href)}"${extra}>${htmlEscape(trim(label))}</a>${htmlEscape(tail)}`;
    })
    .join('');
}

function commentFilter(text: string, style: string, a: Args): string {
  const styles: Record<string, Record<string, string>> = {
    plain: { decoration: '# ' },
    erlang: { decoration: '% ' },
    c: { decoration: '// ' },
    cblock: { beginning: '/*', decoration: ' * ', end: ' */' },
    xml: { beginning: '<!--', decoration: ' - ', end: '-->' },
  };
  if (!Object.hasOwn(styles, style)) throw a.error(`unknown comment style "${style}"`);
  const kw = a.kwargsAll();
  delete kw.style;
  const prepost = Object.hasOwn(kw, 'decoration') ? toStr(kw.decoration) : styles[style].decoration;
  const p: Record<string, unknown> = {
    newline: '\n',
    beginning: '',
    prefix: prepost.trimEnd(),
    prefix_count: 1,
    decoration: '',
    postfix: prepost.trimEnd(),
    postfix_count: 1,
    end: '',
    ...styles[style],
    ...kw,
  };
  const [nl, dec] = [toStr(p.newline), toStr(p.decoration)];
  const beginning = p.beginning ? `${toStr(p.beginning)}${nl}` : '';
  const prefix = p.prefix ? (p.prefix !== nl ? `${toStr(p.prefix)}${nl}` : nl).repeat(Number(p.prefix_count)) : '';
  const body = `${dec}${text.split(nl).join(`${nl}${dec}`)}`.split(`${dec}${nl}`).join(`${dec.trimEnd()}${nl}`);
  const postfix = ['', ...Array<string>(Number(p.postfix_count)).fill(toStr(p.postfix))].join(nl);
  const end = p.end ? `${nl}${toStr(p.end)}` : '';
  return beginning + prefix + body + postfix + end;
}

/** ntpath.split's head, as win_dirname gives it. */
function winSplit(s: string): [string, string] {
  const m = /^(?:[A-Za-z]:|[\\/]{2}[^\\/]+[\\/]+[^\\/]+)?/.exec(s)!;
  const drive = m[0];
  const rest = s.slice(drive.length);
  const i = Math.max(rest.lastIndexOf('/'), rest.lastIndexOf('\\')) + 1;
  let head = rest.slice(0, i);
  const tail = rest.slice(i);
  if (head && !/^[\\/]+$/.test(head)) head = head.replace(/[\\/]+$/, '');
  return [drive + head, tail];
}

export function subelementsOf(v: unknown, sub: unknown, skipMissing: boolean, a: Args): unknown[] {
  const elements = isPlainObject(v) ? Object.values(v) : Array.isArray(v) ? v : undefined;
  if (!elements) throw a.error('obj must be a list of dicts or a nested dict');
  const path = Array.isArray(sub) ? sub.map(toStr) : typeof sub === 'string' ? sub.split('.') : undefined;
  if (!path) throw a.error('subelements must be a list or a string');
  const out: unknown[] = [];
  for (const el of elements) {
    let values: unknown = el;
    let skip = false;
    for (const key of path) {
      if (!isPlainObject(values)) throw a.error(`the key ${key} should point to a dictionary, got '${toStr(values)}'`);
      if (!Object.hasOwn(values, key)) {
        if (skipMissing) {
          skip = true;
          break;
        }
        throw a.error(`could not find '${key}' key in iterated item ${pyRepr(values)}`);
      }
      values = values[key];
    }
    if (skip) continue;
    if (!Array.isArray(values))
      throw a.error(`the key '${path[path.length - 1]}' should point to a list, got ${pyRepr(values)}`);
    for (const x of values) out.push(tuple([el, x]));
  }
  return out;
}

function pyTypeName(v: unknown): string {
  if (v === null) return 'NoneType';
  if (isNamespace(v)) return 'Namespace';
  if (v instanceof PyDate) return v.kind;
  if (isNumber(v)) return isFloat(v) ? 'float' : 'int';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'dict';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

function urlSplit(url: string): Record<string, unknown> {
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(url)!;
  const netloc = m[2] ?? '';
  const at = netloc.lastIndexOf('@');
  const userinfo = at >= 0 ? netloc.slice(0, at) : undefined;
  const hostport = at >= 0 ? netloc.slice(at + 1) : netloc;
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostport);
  const host = hp?.[1] ?? '';
  return {
    fragment: m[5] ?? '',
    hostname: host ? host.replace(/^\[|\]$/g, '').toLowerCase() : null,
    netloc,
    password: userinfo?.includes(':') ? userinfo.slice(userinfo.indexOf(':') + 1) : null,
    path: m[3] ?? '',
    port: hp?.[2] ? Number(hp[2]) : null,
    query: m[4] ?? '',
    scheme: (m[1] ?? '').toLowerCase(),
    username: userinfo !== undefined ? userinfo.split(':')[0] : null,
  };
}

function uuid5(namespace: string, name: string, a: Args): string {
  const hex = namespace.replace(/[{}-]/g, '').replace(/^urn:uuid:/i, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex))
    throw a.error(`Invalid value '${namespace}' for 'namespace': badly formed hexadecimal UUID string`);
  const h = createHash('sha1').update(Buffer.from(hex, 'hex')).update(name, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Python's str.split(sep=None, maxsplit=-1). */
function pySplit(s: string, sep: unknown, max: number): string[] {
  if (sep === null || sep === undefined) {
    const parts = s.trim().split(/\s+/).filter(Boolean);
    if (max < 0 || parts.length <= max + 1) return parts;
    const out: string[] = [];
    let rest = s.trimStart();
    for (let i = 0; i < max; i++) {
      const m = /^(\S+)\s+/.exec(rest)!;
      out.push(m[1]);
      rest = rest.slice(m[0].length);
    }
    return [...out, rest];
  }
  const parts = s.split(String(sep));
  if (max < 0 || parts.length <= max + 1) return parts;
  return [...parts.slice(0, max), parts.slice(max).join(String(sep))];
}

export const FILTERS: Record<string, FilterSpec> = {
  ...FILTER_SPECS,
  d: FILTER_SPECS.default,
  count: FILTER_SPECS.length,
  e: FILTER_SPECS.escape,
};

/** Filters that see an undefined value instead of failing on it. */
const TAKES_UNDEFINED = new Set(['default', 'd', 'mandatory']);

export function applyFilter(name: string, raw: unknown, call: CallArgs, col: number): unknown {
  const spec = FILTERS[name];
  const v = TAKES_UNDEFINED.has(name) ? raw : need(raw);
  return spec.fn(v, new Args(call, spec.names, col, `filter "${name}"`));
}

// ---------------------------------------------------------------- tests

const t = (
  min: number,
  max: number,
  names: readonly string[],
  fn: TestFn,
): Spec<TestFn> & { names: readonly string[] } => ({ min, max, kwargs: names, names, fn });

function result(v: unknown, a: Args, what: string): Record<string, unknown> {
  if (!isPlainObject(v))
    throw a.error(`the "${what}" test needs a registered task result (a dict), got ${typeName(v)}`);
  return v;
}

const searchTest = (anchored: boolean) => (v: unknown, a: Args) => {
  const re = regex(a.str('pattern'), a);
  const m = re.exec(toStr(v));
  return m !== null && (!anchored || m.index === 0);
};

const TEST_SPECS = {
  defined: t(0, 0, [], (v) => !(v instanceof Undef)),
  undefined: t(0, 0, [], (v) => v instanceof Undef),
  none: t(0, 0, [], (v) => v === null),
  match: t(1, 3, ['pattern', 'ignorecase', 'multiline'], searchTest(true)),
  search: t(1, 3, ['pattern', 'ignorecase', 'multiline'], searchTest(false)),
  regex: t(1, 4, ['pattern', 'ignorecase', 'multiline', 'match_type'], (v, a) =>
    searchTest(String(a.get('match_type', 'search')) === 'match')(v, a),
  ),
  changed: t(0, 0, [], (v, a) => {
    const r = result(v, a, 'changed');
    if (Object.hasOwn(r, 'changed')) return truthy(r.changed);
    return (
      Array.isArray(r.results) &&
      isPlainObject(r.results[0]) &&
      r.results.some((x) => isPlainObject(x) && truthy(x.changed))
    );
  }),
  reachable: t(0, 0, [], (v, a) => !truthy(result(v, a, 'reachable').unreachable)),
  unreachable: t(0, 0, [], (v, a) => truthy(result(v, a, 'unreachable').unreachable)),
  started: t(0, 0, [], (v, a) => {
    const r = result(v, a, 'started');
    return Object.hasOwn(r, 'started') ? r.started === 1 || r.started === true : true;
  }),
  finished: t(0, 0, [], (v, a) => {
    const r = result(v, a, 'finished');
    return Object.hasOwn(r, 'finished') ? r.finished === 1 || r.finished === true : true;
  }),
  failed: t(0, 0, [], (v, a) => truthy(result(v, a, 'failed').failed)),
  succeeded: t(0, 0, [], (v, a) => !truthy(result(v, a, 'succeeded').failed)),
  skipped: t(0, 0, [], (v, a) => truthy(result(v, a, 'skipped').skipped)),
  string: t(0, 0, [], (v) => typeof v === 'string'),
  // As in Python, a boolean is a number (but not an integer, for Jinja's test).
  number: t(0, 0, [], (v) => isNumber(v) || typeof v === 'boolean'),
  integer: t(0, 0, [], (v) => isInt(v)),
  true: t(0, 0, [], (v) => v === true),
  false: t(0, 0, [], (v) => v === false),
  callable: t(0, 0, [], (v) => v instanceof Callable),
  escaped: t(0, 0, [], () => false),
  filter: t(0, 0, [], (v) => typeof v === 'string' && Object.hasOwn(FILTERS, v)),
  test: t(0, 0, [], (v) => typeof v === 'string' && Object.hasOwn(TESTS, v)),
  any: t(0, 0, [], (v, a) => list(v, a).some((x) => truthy(x))),
  all: t(0, 0, [], (v, a) => list(v, a).every((x) => truthy(x))),
  nan: t(0, 0, [], (v) => typeof v === 'number' && Number.isNaN(v)),
  version: t(1, 4, ['version', 'operator', 'strict', 'version_type'], (v, a) => {
    if (a.has('strict') && a.get('strict') !== null && a.has('version_type') && a.get('version_type') !== null)
      throw a.error("Cannot specify both 'strict' and 'version_type'");
    if (!truthy(v)) throw a.error('Input version value cannot be empty');
    const ver = a.get('version');
    if (!truthy(ver)) throw a.error('Version parameter to compare against cannot be empty');
    const type = a.bool('strict')
      ? 'strict'
      : a.has('version_type') && a.get('version_type') !== null
        ? toStr(a.get('version_type'))
        : 'loose';
    try {
      return versionCompare(toStr(v), toStr(ver), toStr(a.get('operator', 'eq')), type);
    } catch (e) {
      throw a.error(`Version comparison failed: ${(e as Error).message}`);
    }
  }),
  abs: t(0, 0, [], (v) => toStr(v).startsWith('/')),
  exists: t(0, 0, [], (v) => statOf(toStr(v), true) !== undefined),
  file: t(0, 0, [], (v) => statOf(toStr(v), true)?.isFile() ?? false),
  directory: t(0, 0, [], (v) => statOf(toStr(v), true)?.isDirectory() ?? false),
  link: t(0, 0, [], (v) => statOf(toStr(v), false)?.isSymbolicLink() ?? false),
  link_exists: t(0, 0, [], (v) => statOf(toStr(v), false) !== undefined),
  mount: t(0, 0, [], (v) => isMount(toStr(v))),
  same_file: t(1, 1, ['b'], (v, a) => {
    const [x, y] = [statOf(toStr(v), true), statOf(toStr(a.get('b')), true)];
    return !!x && !!y && x.ino === y.ino && x.dev === y.dev;
  }),
  uri: t(0, 1, ['schemes'], (v, a) => {
    const u = urlSplit(toStr(v));
    const schemes = a.get('schemes', null);
    return u.scheme !== '' && (schemes === null || list(schemes, a).includes(u.scheme));
  }),
  url: t(0, 1, ['schemes'], (v, a) => {
    const u = urlSplit(toStr(v));
    const schemes = a.get('schemes', null);
    return (schemes === null || list(schemes, a).includes(u.scheme)) && u.scheme !== '' && u.netloc !== '';
  }),
  urn: t(0, 0, [], (v) => /^urn:[a-z0-9][a-z0-9-]{0,31}:[a-z0-9()+,\-.:=@;$_!*'%/?#]+$/i.test(toStr(v))),
  vault_encrypted: t(0, 0, [], () => false),
  float: t(0, 0, [], (v) => isFloat(v)),
  boolean: t(0, 0, [], (v) => typeof v === 'boolean'),
  mapping: t(0, 0, [], (v) => isPlainObject(v)),
  sequence: t(0, 0, [], (v) => Array.isArray(v) || typeof v === 'string' || isPlainObject(v)),
  iterable: t(0, 0, [], (v) => Array.isArray(v) || typeof v === 'string' || isPlainObject(v)),
  truthy: t(0, 0, [], (v) => truthy(v)),
  falsy: t(0, 0, [], (v) => !truthy(v)),
  lower: t(0, 0, [], (v) => typeof v === 'string' && v === v.toLowerCase()),
  upper: t(0, 0, [], (v) => typeof v === 'string' && v === v.toUpperCase()),
  even: t(0, 0, [], (v, a) => number(v, a) % 2 === 0),
  odd: t(0, 0, [], (v, a) => Math.abs(number(v, a) % 2) === 1),
  divisibleby: t(1, 1, ['num'], (v, a) => Number(v) % Number(a.get('num')) === 0),
  equalto: t(1, 1, ['other'], (v, a) => deepEqual(v, a.get('other'))),
  ne: t(1, 1, ['other'], (v, a) => !deepEqual(v, a.get('other'))),
  lt: t(1, 1, ['other'], (v, a) => compare('<', v, a.get('other'), a.col)),
  le: t(1, 1, ['other'], (v, a) => compare('<=', v, a.get('other'), a.col)),
  gt: t(1, 1, ['other'], (v, a) => compare('>', v, a.get('other'), a.col)),
  ge: t(1, 1, ['other'], (v, a) => compare('>=', v, a.get('other'), a.col)),
  in: t(1, 1, ['seq'], (v, a) => compare('in', v, a.get('seq'), a.col)),
  contains: t(1, 1, ['value'], (v, a) => compare('in', a.get('value'), v, a.col)),
  sameas: t(1, 1, ['other'], (v, a) => v === a.get('other')),
  subset: t(1, 1, ['b'], (v, a) => list(v, a).every((x) => list(a.get('b'), a).some((y) => deepEqual(x, y)))),
  superset: t(1, 1, ['b'], (v, a) => list(a.get('b'), a).every((x) => list(v, a).some((y) => deepEqual(x, y)))),
};

export const TESTS: Record<string, Spec<TestFn> & { names: readonly string[] }> = {
  ...TEST_SPECS,
  change: TEST_SPECS.changed,
  failure: TEST_SPECS.failed,
  success: TEST_SPECS.succeeded,
  successful: TEST_SPECS.succeeded,
  skip: TEST_SPECS.skipped,
  eq: TEST_SPECS.equalto,
  '==': TEST_SPECS.equalto,
  '!=': TEST_SPECS.ne,
  '<': TEST_SPECS.lt,
  '<=': TEST_SPECS.le,
  '>': TEST_SPECS.gt,
  '>=': TEST_SPECS.ge,
  greaterthan: TEST_SPECS.gt,
  lessthan: TEST_SPECS.lt,
  issubset: TEST_SPECS.subset,
  issuperset: TEST_SPECS.superset,
  isnan: TEST_SPECS.nan,
  version_compare: TEST_SPECS.version,
  is_abs: TEST_SPECS.abs,
  is_file: TEST_SPECS.file,
  is_dir: TEST_SPECS.directory,
  is_link: TEST_SPECS.link,
  is_mount: TEST_SPECS.mount,
  is_same_file: TEST_SPECS.same_file,
};

function statOf(path: string, follow: boolean): Stats | undefined {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch {
    return undefined;
  }
}

/** os.path.ismount: a directory on another device than its parent (or the same inode: "/"). */
function isMount(path: string): boolean {
  const s = statOf(path, false);
  if (!s || s.isSymbolicLink() || !s.isDirectory()) return false;
  const parent = statOf(posix.join(path, '..'), false);
  return !!parent && (parent.dev !== s.dev || parent.ino === s.ino);
}

const TAKES_UNDEFINED_TEST = new Set(['defined', 'undefined']);

export function applyTest(name: string, raw: unknown, call: CallArgs, col: number): boolean {
  const spec = TESTS[name];
  const v = TAKES_UNDEFINED_TEST.has(name) ? raw : need(raw);
  return spec.fn(v, new Args(call, spec.names, col, `test "${name}"`));
}

// ---------------------------------------------------------------- methods and functions

type MethodFn = (self: unknown, a: Args) => unknown;
const m = (min: number, max: number, names: readonly string[], fn: MethodFn) => ({
  min,
  max,
  kwargs: names,
  names,
  fn,
});

const str = (self: unknown, a: Args): string => {
  if (typeof self !== 'string') throw a.error(`needs a string, got ${typeName(self)}`);
  return self;
};

export const METHODS: Record<
  string,
  { min: number; max: number; kwargs: readonly string[] | '*'; names: readonly string[]; fn: MethodFn }
> = {
  items: m(0, 0, [], (self, a) => Object.entries(dict(self, a)).map((p) => tuple(p))),
  keys: m(0, 0, [], (self, a) => Object.keys(dict(self, a))),
  values: m(0, 0, [], (self, a) => Object.values(dict(self, a))),
  get: m(1, 2, ['key', 'default'], (self, a) => {
    const d = dict(self, a);
    const k = toStr(a.get('key'));
    return Object.hasOwn(d, k) ? d[k] : a.get('default', null);
  }),
  split: m(0, 2, ['sep', 'maxsplit'], (self, a) =>
    pySplit(str(self, a), a.has('sep') ? a.get('sep') : null, Number(a.get('maxsplit', -1))),
  ),
  splitlines: m(0, 0, [], (self, a) =>
    str(self, a)
      .split(/\r?\n/)
      .filter((l, i, all) => i < all.length - 1 || l !== ''),
  ),
  // A tuple of prefixes (suffixes) matches if any does, as Python's.
  startswith: m(1, 1, ['prefix'], (self, a) => affixes(a.get('prefix')).some((p) => str(self, a).startsWith(p))),
  endswith: m(1, 1, ['suffix'], (self, a) => affixes(a.get('suffix')).some((p) => str(self, a).endsWith(p))),
  rfind: m(1, 1, ['sub'], (self, a) => str(self, a).lastIndexOf(toStr(a.get('sub')))),
  rindex: m(1, 1, ['sub'], (self, a) => {
    const i = str(self, a).lastIndexOf(toStr(a.get('sub')));
    if (i < 0) throw a.error('substring not found');
    return i;
  }),
  rpartition: m(1, 1, ['sep'], (self, a) => {
    const s = str(self, a);
    const sep = toStr(a.get('sep'));
    const i = s.lastIndexOf(sep);
    return tuple(i < 0 ? ['', '', s] : [s.slice(0, i), sep, s.slice(i + sep.length)]);
  }),
  istitle: m(0, 0, [], (self, a) => {
    const s = str(self, a);
    return /\p{L}/u.test(s) && title(s) === s && s !== s.toLowerCase();
  }),
  isnumeric: m(0, 0, [], (self, a) => /^\p{N}+$/u.test(str(self, a))),
  isdecimal: m(0, 0, [], (self, a) => /^\p{Nd}+$/u.test(str(self, a))),
  strip: m(0, 1, ['chars'], (self, a) => pyStrip(str(self, a), a.get('chars', null), 'both')),
  lstrip: m(0, 1, ['chars'], (self, a) => pyStrip(str(self, a), a.get('chars', null), 'left')),
  rstrip: m(0, 1, ['chars'], (self, a) => pyStrip(str(self, a), a.get('chars', null), 'right')),
  format: {
    min: 0,
    max: 20,
    kwargs: '*',
    names: [],
    fn: (self, a) => {
      try {
        return braceFormat(str(self, a), a.rest(0), a.kwargsAll());
      } catch (e) {
        if (e instanceof FormatError) throw a.error(e.message);
        throw e;
      }
    },
  },
  title: m(0, 0, [], (self, a) => title(str(self, a))),
  capitalize: m(0, 0, [], (self, a) => {
    const s = str(self, a);
    return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
  }),
  find: m(1, 1, ['sub'], (self, a) => str(self, a).indexOf(toStr(a.get('sub')))),
  count: m(1, 1, ['x'], (self, a) => {
    const x = a.get('x');
    if (Array.isArray(self)) return self.filter((y) => deepEqual(x, y)).length;
    const s = str(self, a);
    const sub = toStr(x);
    return sub === '' ? [...s].length + 1 : s.split(sub).length - 1;
  }),
  index: m(1, 1, ['x'], (self, a) => {
    const x = a.get('x');
    const i = Array.isArray(self) ? self.findIndex((y) => deepEqual(x, y)) : str(self, a).indexOf(toStr(x));
    if (i < 0) throw a.error(`${pyRepr(x)} is not in ${Array.isArray(self) ? 'list' : 'string'}`);
    return i;
  }),
  isdigit: m(0, 0, [], (self, a) => /^\d+$/.test(str(self, a))),
  isalpha: m(0, 0, [], (self, a) => /^\p{L}+$/u.test(str(self, a))),
  isalnum: m(0, 0, [], (self, a) => /^[\p{L}\p{N}]+$/u.test(str(self, a))),
  isspace: m(0, 0, [], (self, a) => /^\s+$/.test(str(self, a))),
  islower: m(0, 0, [], (self, a) => {
    const s = str(self, a);
    return s !== s.toUpperCase() && s === s.toLowerCase();
  }),
  isupper: m(0, 0, [], (self, a) => {
    const s = str(self, a);
    return s !== s.toLowerCase() && s === s.toUpperCase();
  }),
  zfill: m(1, 1, ['width'], (self, a) => {
    const s = str(self, a);
    const sign = /^[-+]/.test(s) ? s[0] : '';
    return sign + s.slice(sign.length).padStart(Number(a.get('width')) - sign.length, '0');
  }),
  center: m(1, 2, ['width', 'fillchar'], (self, a) =>
    center(str(self, a), Number(a.get('width')), toStr(a.get('fillchar', ' '))),
  ),
  ljust: m(1, 2, ['width', 'fillchar'], (self, a) =>
    str(self, a).padEnd(Number(a.get('width')), toStr(a.get('fillchar', ' '))),
  ),
  rjust: m(1, 2, ['width', 'fillchar'], (self, a) =>
    str(self, a).padStart(Number(a.get('width')), toStr(a.get('fillchar', ' '))),
  ),
  rsplit: m(0, 2, ['sep', 'maxsplit'], (self, a) => {
    const s = str(self, a);
    const max = Number(a.get('maxsplit', -1));
    const sep = a.has('sep') ? a.get('sep') : null;
    if (max < 0) return pySplit(s, sep, -1);
    if (sep === null) {
      const parts = s.trim().split(/\s+/).filter(Boolean);
      if (parts.length <= max + 1) return parts;
      const head = s.trimEnd().replace(new RegExp(`(\\s+\\S+){${max}}$`), '');
      return [head.trimStart(), ...parts.slice(parts.length - max)];
    }
    const parts = s.split(toStr(sep));
    if (parts.length <= max + 1) return parts;
    return [parts.slice(0, parts.length - max).join(toStr(sep)), ...parts.slice(parts.length - max)];
  }),
  partition: m(1, 1, ['sep'], (self, a) => {
    const s = str(self, a);
    const sep = toStr(a.get('sep'));
    const i = s.indexOf(sep);
    return tuple(i < 0 ? [s, '', ''] : [s.slice(0, i), sep, s.slice(i + sep.length)]);
  }),
  swapcase: m(0, 0, [], (self, a) =>
    [...str(self, a)].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
  ),
  lower: m(0, 0, [], (self, a) => str(self, a).toLowerCase()),
  upper: m(0, 0, [], (self, a) => str(self, a).toUpperCase()),
  replace: m(2, 2, ['old', 'new'], (self, a) =>
    str(self, a)
      .split(toStr(a.get('old')))
      .join(toStr(a.get('new'))),
  ),
  join: m(1, 1, ['iterable'], (self, a) => list(a.get('iterable'), a).map(toStr).join(str(self, a))),
  isoformat: m(0, 1, ['sep'], (self, a) => pyDate(self, a, 'isoformat').isoformat(toStr(a.get('sep', 'T')))),
  strftime: m(1, 1, ['format'], (self, a) => {
    const d = pyDate(self, a, 'strftime');
    return strftime(toStr(a.get('format')), (d.time() + (d.offset ?? 0) * 60_000) / 1000, true);
  }),
};

function affixes(v: unknown): string[] {
  return Array.isArray(v) ? v.map(toStr) : [toStr(v)];
}

function pyDate(self: unknown, a: Args, method: string): PyDate {
  if (!(self instanceof PyDate)) throw a.error(`'${pyTypeName(self)}' object has no attribute '${method}'`);
  return self;
}

export function callMethod(name: string, self: unknown, call: CallArgs, col: number): unknown {
  const spec = METHODS[name];
  return spec.fn(self, new Args(call, spec.names, col, `method "${name}"`));
}

/** lookup()/query(): the plugin's name first, then its terms; wantlist and errors as Ansible takes them. */
function lookupCall(call: CallArgs, col: number, ctx: LookupContext, wantlist: boolean): unknown {
  const [name, ...terms] = call.args.map((x) => need(x));
  if (typeof name !== 'string') throw new ExprError('lookup() needs a plugin name', col);
  const kwargs = Object.fromEntries(Object.entries(call.kwargs).map(([k, v]) => [k, need(v)]));
  const want = wantlist || truthy(kwargs.wantlist);
  const errors = kwargs.errors === undefined ? 'strict' : toStr(kwargs.errors);
  delete kwargs.wantlist;
  delete kwargs.errors;
  if (!['strict', 'warn', 'ignore'].includes(errors))
    throw new ExprError(`lookup: errors must be "strict", "warn" or "ignore", got "${errors}"`, col);
  let results: unknown[];
  try {
    results = runLookup(name, terms, kwargs, ctx);
  } catch (e) {
    if (!(e instanceof LookupError)) throw e;
    if (errors === 'strict') throw new ExprError(`lookup plugin '${name}': ${e.message}`, col);
    return want ? [] : null;
  }
  return want ? results : lookupValue(results);
}

export { LOOKUP_NAMES };

export const GLOBALS: Record<
  string,
  {
    min: number;
    max: number;
    kwargs: readonly string[] | '*';
    fn: (call: CallArgs, col: number, ctx: LookupContext) => unknown;
  }
> = {
  lookup: { min: 1, max: 50, kwargs: '*', fn: (call, col, ctx) => lookupCall(call, col, ctx, false) },
  query: { min: 1, max: 50, kwargs: '*', fn: (call, col, ctx) => lookupCall(call, col, ctx, true) },
  q: { min: 1, max: 50, kwargs: '*', fn: (call, col, ctx) => lookupCall(call, col, ctx, true) },
  now: {
    min: 0,
    max: 2,
    kwargs: ['utc', 'fmt'],
    fn(call) {
      const utc = truthy(need(call.args[0] ?? call.kwargs.utc ?? false));
      const fmt = need(call.args[1] ?? call.kwargs.fmt ?? null);
      const now = Date.now() / 1000;
      if (fmt !== null) return strftime(toStr(fmt), now, utc);
      // Python's naive datetime: now() local, now(utc=True) UTC.
      const [Y, m, d, H, M, S] = strftime('%Y %m %d %H %M %S', now, utc).split(' ').map(Number);
      return new PyDate('datetime', Y, m, d, H, M, S, Math.floor((now % 1) * 1e6));
    },
  },
  undef: {
    min: 0,
    max: 1,
    kwargs: ['hint'],
    fn: (call) =>
      new Undef(toStr(need(call.args[0] ?? call.kwargs.hint ?? 'Mandatory variable has not been overridden'))),
  },
  range: {
    min: 1,
    max: 3,
    kwargs: [],
    fn(call, col) {
      const n = call.args.map((x) => need(x));
      if (!n.every((x) => typeof x === 'number' && Number.isInteger(x)))
        throw new ExprError('range() needs whole numbers', col);
      const [start, stop, step] =
        n.length === 1 ? [0, n[0] as number, 1] : [n[0] as number, n[1] as number, (n[2] as number) ?? 1];
      if (step === 0) throw new ExprError('range() step must not be 0', col);
      const out: number[] = [];
      for (let i = start; step > 0 ? i < stop : i > stop; i += step) {
        out.push(i);
        if (out.length > 100_000) throw new ExprError('range() too long', col);
      }
      return out;
    },
  },
  // dict(mapping or pairs, **kwargs), as Python's.
  dict: {
    min: 0,
    max: 1,
    kwargs: '*',
    fn(call, col) {
      const init = call.args.length ? need(call.args[0]) : {};
      const out: Record<string, unknown> = {};
      if (isPlainObject(init)) Object.assign(out, init);
      else if (Array.isArray(init))
        for (const pair of init) {
          if (!Array.isArray(pair) || pair.length !== 2)
            throw new ExprError('dict() needs a mapping or a list of (key, value) pairs', col);
          out[toStr(pair[0])] = pair[1];
        }
      else throw new ExprError(`dict() needs a mapping or a list of pairs, got ${typeName(init)}`, col);
      for (const [k, v] of Object.entries(call.kwargs)) out[k] = need(v);
      return out;
    },
  },
  namespace: {
    min: 0,
    max: 1,
    kwargs: '*',
    fn(call, col) {
      const init = call.args.length ? need(call.args[0]) : {};
      if (!isPlainObject(init)) throw new ExprError('namespace() takes a dict and keyword arguments', col);
      return namespace({ ...init, ...Object.fromEntries(Object.entries(call.kwargs).map(([k, v]) => [k, need(v)])) });
    },
  },
};

export { pyRepr };
