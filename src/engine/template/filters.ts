// The filters, tests, methods and functions expressions may call (Jinja's and Ansible's names and
// arguments, with the results Ansible documents). Nothing else is callable: an unknown name is a
// parse error, so a playbook that uses one is refused before any host is touched.
import { createHash } from 'node:crypto';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { pyExpand, pyRegex } from '../util/pyre.js';
import {
  ExprError,
  Undef,
  UndefinedVarError,
  compare,
  deepEqual,
  isPlainObject,
  need,
  pyRepr,
  toStr,
  truthy,
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
  extraKw: readonly string[] = [],
): Spec<FilterFn> & { names: readonly string[] } => ({
  min,
  max,
  kwargs: [...names, ...extraKw],
  names,
  fn,
});

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
  if (typeof v === 'number') return Math.trunc(v);
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
  if (typeof v === 'number') return v === 1;
  if (typeof v === 'string') return BOOL_TRUE.has(v.trim().toLowerCase());
  return false;
}

/** Python-like sort key comparison (numbers and strings, lists element-wise). */
function cmp(x: unknown, y: unknown, a: Args, caseSensitive: boolean): number {
  const norm = (v: unknown) => (typeof v === 'string' && !caseSensitive ? v.toLowerCase() : v);
  const p = norm(x);
  const q = norm(y);
  if (typeof p === 'number' && typeof q === 'number') return p - q;
  if (typeof p === 'string' && typeof q === 'string') return p < q ? -1 : p > q ? 1 : 0;
  if (typeof p === 'boolean' && typeof q === 'boolean') return Number(p) - Number(q);
  throw a.error(`cannot compare ${typeName(x)} with ${typeName(y)}`);
}

function regexFlags(a: Args): string {
  return (a.bool('ignorecase') ? 'i' : '') + (a.bool('multiline') ? 'm' : '');
}

function regex(pattern: string, a: Args, extra = ''): RegExp {
  try {
    const re = pyRegex(pattern, 'pattern');
    return new RegExp(re.source, [...new Set((re.flags + extra).split(''))].join(''));
  } catch (e) {
    throw a.error((e as Error).message);
  }
}

function jsonOf(v: unknown, indent?: number, sortKeys = false): string {
  const sorted = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(sorted)
      : isPlainObject(x)
        ? Object.fromEntries(
            Object.keys(x)
              .sort()
              .map((k) => [k, sorted(x[k])]),
          )
        : x;
  const text = JSON.stringify(sortKeys ? sorted(v) : v, null, indent);
  // Python's json.dumps puts a space after ":" and "," when not indenting.
  return indent
    ? text
    : JSON.stringify(sortKeys ? sorted(v) : v).replace(/("(?:[^"\\]|\\.)*")|([:,])/g, (m, str: string | undefined) =>
        str ? str : `${m} `,
      );
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
  bool: f(0, 0, [], (v) => toBool(v)),
  int: f(0, 2, ['default', 'base'], (v, a) => toInt(v, a.get('default', 0), Number(a.get('base', 10)))),
  float: f(0, 1, ['default'], (v, a) => {
    if (typeof v === 'number') return v;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    return Number.isNaN(n) ? a.get('default', 0) : n;
  }),
  string: f(0, 0, [], (v) => toStr(v)),
  lower: f(0, 0, [], (v) => toStr(v).toLowerCase()),
  upper: f(0, 0, [], (v) => toStr(v).toUpperCase()),
  capitalize: f(0, 0, [], (v) => {
    const s = toStr(v);
    return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
  }),
  trim: f(0, 1, ['chars'], (v) => toStr(v).trim()),
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
      const re = regex(a.str('pattern', ''), a, `g${regexFlags(a)}`);
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
      const re = regex(a.str('pattern'), a, regexFlags(a));
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
      const re = regex(a.str('pattern'), a, `g${regexFlags(a)}`);
      return [...toStr(v).matchAll(re)].map((m) => (m.length > 2 ? m.slice(1) : m.length === 2 ? m[1] : m[0]));
    },
    ['ignorecase', 'multiline'],
  ),
  regex_escape: f(0, 0, [], (v) => toStr(v).replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')),
  to_json: f(
    0,
    0,
    [],
    (v, a) => jsonOf(v, a.has('indent') ? Number(a.get('indent')) : undefined, a.bool('sort_keys')),
    ['indent', 'sort_keys', 'ensure_ascii'],
  ),
  to_nice_json: f(
    0,
    0,
    [],
    (v, a) => jsonOf(v, Number(a.get('indent', 4)), a.has('sort_keys') ? a.bool('sort_keys') : true),
    ['indent', 'sort_keys'],
  ),
  from_json: f(0, 0, [], (v, a) => {
    try {
      return JSON.parse(toStr(v));
    } catch (e) {
      throw a.error(`not JSON: ${(e as Error).message}`);
    }
  }),
  to_yaml: f(0, 0, [], (v) => toYaml(v), ['indent', 'default_flow_style']),
  to_nice_yaml: f(0, 0, [], (v, a) => toYaml(v, { indent: Number(a.get('indent', 4)) }), ['indent']),
  from_yaml: f(0, 0, [], (v, a) => {
    try {
      return parseYaml(toStr(v));
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
  unique: f(0, 0, [], (v, a) => list(v, a).filter((x, i, all) => all.findIndex((y) => deepEqual(x, y)) === i), [
    'case_sensitive',
    'attribute',
  ]),
  sort: f(0, 3, ['reverse', 'case_sensitive', 'attribute'], (v, a) => {
    const key = (x: unknown) => (a.has('attribute') ? need(attrOf(x, String(a.get('attribute')), a)) : x);
    const out = [...list(v, a)].sort((x, y) => cmp(key(x), key(y), a, a.bool('case_sensitive')));
    return a.bool('reverse') ? out.reverse() : out;
  }),
  reverse: f(0, 0, [], (v, a) => (typeof v === 'string' ? [...v].reverse().join('') : [...list(v, a)].reverse())),
  list: f(0, 0, [], (v, a) => [...list(v, a)]),
  min: f(0, 0, [], (v, a) => list(v, a).reduce((x, y) => (cmp(y, x, a, false) < 0 ? y : x)), ['attribute']),
  max: f(0, 0, [], (v, a) => list(v, a).reduce((x, y) => (cmp(y, x, a, false) > 0 ? y : x)), ['attribute']),
  sum: f(0, 1, ['attribute', 'start'], (v, a) =>
    list(v, a).reduce(
      (x: number, y) => x + Number(a.has('attribute') ? need(attrOf(y, String(a.get('attribute')), a)) : y),
      Number(a.get('start', 0)),
    ),
  ),
  flatten: f(0, 1, ['levels'], (v, a) => {
    const flat = (l: unknown[], depth: number): unknown[] =>
      l.flatMap((x) => (Array.isArray(x) && depth !== 0 ? flat(x, depth - 1) : x === null ? [] : [x]));
    return flat(list(v, a), a.has('levels') ? Number(a.get('levels')) : -1);
  }),
  combine: f(
    0,
    10,
    [],
    (v, a) => {
      const dicts = [
        dict(v, a),
        ...a
          .rest(0)
          .flatMap((d) => (Array.isArray(d) ? d : [d]))
          .map((d) => dict(d, a)),
      ];
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
    if (typeof v !== 'number') throw a.error(`needs a number, got ${typeName(v)}`);
    return Math.abs(v);
  }),
  round: f(0, 2, ['precision', 'method'], (v, a) => {
    const p = 10 ** Number(a.get('precision', 0));
    const m = String(a.get('method', 'common'));
    const fn = m === 'ceil' ? Math.ceil : m === 'floor' ? Math.floor : Math.round;
    return fn(Number(v) * p) / p;
  }),
  split: f(0, 2, ['sep', 'maxsplit'], (v, a) =>
    pySplit(toStr(v), a.has('sep') ? a.get('sep') : null, Number(a.get('maxsplit', -1))),
  ),
  zip: f(0, 10, [], (v, a) => {
    const lists = [list(v, a), ...a.rest(0).map((l) => list(l, a))];
    const n = Math.min(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_, i) => lists.map((l) => l[i]));
  }),
  dict: f(0, 0, [], (v, a) =>
    Object.fromEntries(list(v, a).map((p) => (Array.isArray(p) ? [toStr(p[0]), p[1]] : [toStr(p), undefined]))),
  ),
  items: f(0, 0, [], (v, a) => Object.entries(dict(v, a))),
  random: f(0, 0, [], (v, a) => {
    const l = list(v, a);
    return l[Math.floor(Math.random() * l.length)];
  }),
  hash: f(0, 1, ['hashtype'], (v, a) => nodeHash(String(a.get('hashtype', 'sha1')), toStr(v), a)),
  checksum: f(0, 0, [], (v, a) => nodeHash('sha1', toStr(v), a)),
};

function nodeHash(algo: string, text: string, a: Args): string {
  try {
    return createHash(algo).update(text, 'utf8').digest('hex');
  } catch {
    throw a.error(`unknown hash type "${algo}"`);
  }
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

export const FILTERS: Record<string, Spec<FilterFn> & { names: readonly string[] }> = {
  ...FILTER_SPECS,
  d: FILTER_SPECS.default,
  count: FILTER_SPECS.length,
  e: FILTER_SPECS.quote,
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
  const flags = (a.bool('ignorecase') ? 'i' : '') + (a.bool('multiline') ? 'm' : '');
  const re = regex(a.str('pattern'), a, flags);
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
  changed: t(0, 0, [], (v, a) => truthy(result(v, a, 'changed').changed)),
  failed: t(0, 0, [], (v, a) => truthy(result(v, a, 'failed').failed)),
  succeeded: t(0, 0, [], (v, a) => !truthy(result(v, a, 'succeeded').failed)),
  skipped: t(0, 0, [], (v, a) => truthy(result(v, a, 'skipped').skipped)),
  string: t(0, 0, [], (v) => typeof v === 'string'),
  number: t(0, 0, [], (v) => typeof v === 'number'),
  integer: t(0, 0, [], (v) => typeof v === 'number' && Number.isInteger(v)),
  float: t(0, 0, [], (v) => typeof v === 'number' && !Number.isInteger(v)),
  boolean: t(0, 0, [], (v) => typeof v === 'boolean'),
  mapping: t(0, 0, [], (v) => isPlainObject(v)),
  sequence: t(0, 0, [], (v) => Array.isArray(v) || typeof v === 'string'),
  iterable: t(0, 0, [], (v) => Array.isArray(v) || typeof v === 'string' || isPlainObject(v)),
  truthy: t(0, 0, [], (v) => truthy(v)),
  falsy: t(0, 0, [], (v) => !truthy(v)),
  lower: t(0, 0, [], (v) => typeof v === 'string' && v === v.toLowerCase()),
  upper: t(0, 0, [], (v) => typeof v === 'string' && v === v.toUpperCase()),
  even: t(0, 0, [], (v) => Number(v) % 2 === 0),
  odd: t(0, 0, [], (v) => Math.abs(Number(v) % 2) === 1),
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
  subset: t(1, 1, ['b'], (v, a) => (v as unknown[]).every((x) => list(a.get('b'), a).some((y) => deepEqual(x, y)))),
  superset: t(1, 1, ['b'], (v, a) => list(a.get('b'), a).every((x) => (v as unknown[]).some((y) => deepEqual(x, y)))),
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
};

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
  { min: number; max: number; kwargs: readonly string[]; names: readonly string[]; fn: MethodFn }
> = {
  items: m(0, 0, [], (self, a) => Object.entries(dict(self, a))),
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
  startswith: m(1, 1, ['prefix'], (self, a) => str(self, a).startsWith(toStr(a.get('prefix')))),
  endswith: m(1, 1, ['suffix'], (self, a) => str(self, a).endsWith(toStr(a.get('suffix')))),
  strip: m(0, 1, ['chars'], (self, a) => str(self, a).trim()),
  lstrip: m(0, 1, ['chars'], (self, a) => str(self, a).trimStart()),
  rstrip: m(0, 1, ['chars'], (self, a) => str(self, a).trimEnd()),
  lower: m(0, 0, [], (self, a) => str(self, a).toLowerCase()),
  upper: m(0, 0, [], (self, a) => str(self, a).toUpperCase()),
  replace: m(2, 2, ['old', 'new'], (self, a) =>
    str(self, a)
      .split(toStr(a.get('old')))
      .join(toStr(a.get('new'))),
  ),
  join: m(1, 1, ['iterable'], (self, a) => list(a.get('iterable'), a).map(toStr).join(str(self, a))),
};

export function callMethod(name: string, self: unknown, call: CallArgs, col: number): unknown {
  const spec = METHODS[name];
  return spec.fn(self, new Args(call, spec.names, col, `method "${name}"`));
}

export const GLOBALS: Record<
  string,
  { min: number; max: number; kwargs: readonly string[] | '*'; fn: (call: CallArgs, col: number) => unknown }
> = {
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
  dict: { min: 0, max: 0, kwargs: '*', fn: (call) => ({ ...call.kwargs }) },
};

export { pyRepr };
