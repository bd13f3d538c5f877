// A task's loop items: `loop:` as rendered, or a `with_*` loop as Ansible's lookup of that name turns
// its terms into items (`with_items` flattens one level, `with_dict` gives key/value pairs,
// `with_sequence` formats numbers, `with_subelements` pairs each element with each of its sub-list's
// items, ...). Files (`with_fileglob`, `with_first_found`) are looked for on this machine, as Ansible does.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { TaskFailure } from '../util/errors.js';
import { parseKv } from '../util/kv.js';

/** Where a loop looks for files: the role's and the playbook's `files/` and themselves. */
export type FileDirs = string[];

const isDict = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** One level of lists flattened (lookup `items`). */
const flatOnce = (v: unknown[]): unknown[] => v.flatMap((x) => (Array.isArray(x) ? x : [x]));
/** Every level flattened (lookup `flattened`). */
const flatAll = (v: unknown[]): unknown[] => v.flatMap((x) => (Array.isArray(x) ? flatAll(x) : [x]));

/** A loop's terms as a list: a list stays one, anything else is a list of that one thing. */
const listify = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

export function loopItemsOf(kind: string, rendered: unknown, dirs: FileDirs = []): unknown[] {
  switch (kind) {
    case 'loop':
      if (!Array.isArray(rendered))
        throw new TaskFailure(
          `Invalid data passed to 'loop', it requires a list, got this instead: ${pyRepr(rendered)}. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup.`,
        );
      return rendered;
    case 'items':
      return flatOnce(listify(rendered));
    case 'list':
      return listify(rendered);
    case 'flattened':
      return flatAll(listify(rendered));
    case 'indexed_items':
      return flatOnce(listify(rendered)).map((x, i) => [i, x]);
    case 'dict': {
      const d = Array.isArray(rendered) && rendered.length === 1 ? rendered[0] : rendered;
      if (!isDict(d)) throw new TaskFailure(`with_dict expects a dict`);
      return Object.entries(d).map(([key, value]) => ({ key, value }));
    }
    case 'together': {
      const lists = listify(rendered).map(listify);
      if (!lists.length) throw new TaskFailure('with_together requires at least one element in each list');
      const n = Math.max(...lists.map((l) => l.length));
      return Array.from({ length: n }, (_, i) => lists.map((l) => (i < l.length ? l[i] : null)));
    }
    case 'nested':
    case 'cartesian': {
      const lists = listify(rendered).map(listify);
      if (!lists.length) throw new TaskFailure(`with_${kind} requires at least one element in the nested list`);
      let out: unknown[][] = [[]];
      for (const l of lists) out = out.flatMap((prefix) => l.map((x) => [...prefix, x]));
      return out.map((x) => flatAll(x));
    }
    case 'subelements':
      return subelements(listify(rendered));
    case 'sequence':
      return listify(rendered).flatMap((t) => sequence(String(t)));
    case 'random_choice': {
      const l = listify(rendered);
      return l.length ? [l[Math.floor(Math.random() * l.length)]] : [];
    }
    case 'fileglob':
      return listify(rendered).flatMap((t) => fileglob(String(t), dirs));
    case 'first_found': {
      const found = firstFound(listify(rendered), dirs);
      return found === undefined ? [] : [found];
    }
    case 'lines':
      return listify(rendered).flatMap((cmd) =>
        execFileSync('/bin/sh', ['-c', String(cmd)], { encoding: 'utf8' })
          .split('\n')
          .filter(Boolean),
      );
    default:
      throw new TaskFailure(`with_${kind} is not supported`);
  }
}

/** Python's repr of a value, as Ansible's messages show one. */
function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (isDict(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  return String(v);
}

/** `with_subelements: [LIST, "key.sub", {skip_missing: true}]`: each element with each item of its sub-list. */
function subelements(terms: unknown[]): unknown[] {
  const [list, key, flags] = terms;
  if (!Array.isArray(list) || typeof key !== 'string')
    throw new TaskFailure('subelements lookup expects a list of two or three items');
  const skipMissing = isDict(flags) && Boolean(flags.skip_missing);
  const path = key.split('.');
  const out: unknown[] = [];
  for (const el of list) {
    if (!isDict(el)) throw new TaskFailure(`subelements lookup expects a dictionary, got '${String(el)}'`);
    if (el.skipped) continue;
    // The element is paired without its sub-list, as Ansible's lookup pops it.
    const top = { ...el };
    let at: Record<string, unknown> = top;
    let sub: unknown;
    let missing = false;
    for (const [i, k] of path.entries()) {
      if (!(k in at)) {
        if (skipMissing) {
          missing = true;
          break;
        }
        throw new TaskFailure(`could not find '${k}' key in iterated item '${pyRepr(el)}'`);
      }
      if (i === path.length - 1) {
        sub = at[k];
        delete at[k];
      } else {
        at[k] = { ...(at[k] as Record<string, unknown>) };
        at = at[k] as Record<string, unknown>;
      }
    }
    if (missing) continue;
    if (!Array.isArray(sub)) throw new TaskFailure(`the key ${key} should point to a list, got '${pyRepr(sub)}'`);
    for (const s of sub) out.push([top, s]);
  }
  return out;
}

/** Python's `%` formatting of one integer, for the formats with_sequence meets (%d, %02d, %x, %o, %s). */
function pyFormat(fmt: string, n: number): string {
  return fmt.replace(/%([-0 +]*)(\d*)([dixXos%])/g, (_m, flags: string, width: string, conv: string) => {
    if (conv === '%') return '%';
    let s =
      conv === 'x'
        ? n.toString(16)
        : conv === 'X'
          ? n.toString(16).toUpperCase()
          : conv === 'o'
            ? n.toString(8)
            : String(n);
    const w = Number(width || 0);
    if (flags.includes('-')) s = s.padEnd(w);
    else if (flags.includes('0') && conv !== 's') {
      const neg = s.startsWith('-');
      s = (neg ? '-' : '') + s.replace('-', '').padStart(neg ? w - 1 : w, '0');
    } else s = s.padStart(w);
    return s;
  });
}

const num = (s: string, what: string): number => {
  const n = /^0x[0-9a-f]+$/i.test(s)
    ? parseInt(s, 16)
    : /^0o?[0-7]+$/.test(s) && s !== '0'
      ? parseInt(s.replace(/^0o?/, ''), 8)
      : Number(s);
  if (!Number.isInteger(n)) throw new TaskFailure(`can't parse ${what}=${s} as integer`);
  return n;
};

/** `with_sequence: start=1 end=5 stride=2 format=x%02d` (or `count=`, or the short form `4-8/2:x%d`). */
export function sequence(term: string): string[] {
  let start = 1;
  let end: number | undefined;
  let count: number | undefined;
  let stride = 1;
  let format = '%d';
  const short =
    /^(?:(0x[0-9a-f]+|0o?[0-7]+|\d+)-)?(0x[0-9a-f]+|0o?[0-7]+|\d+)(?:\/(0x[0-9a-f]+|0o?[0-7]+|\d+))?(?::(.+))?$/i.exec(
      term.trim(),
    );
  if (short && !term.includes('=')) {
    if (short[1] !== undefined) start = num(short[1], 'start');
    end = num(short[2], 'end');
    if (short[3] !== undefined) stride = num(short[3], 'stride');
    if (short[4] !== undefined) format = short[4];
  } else {
    const kv = parseKv(term);
    for (const [k, v] of Object.entries(kv)) {
      if (k === 'start') start = num(v, k);
      else if (k === 'end') end = num(v, k);
      else if (k === 'count') count = num(v, k);
      else if (k === 'stride') stride = num(v, k);
      else if (k === 'format') format = v;
      else throw new TaskFailure(`unrecognized arguments to with_sequence: ['${k}']`);
    }
  }
  if (count !== undefined && end !== undefined)
    throw new TaskFailure("can't specify both count and end in with_sequence");
  if (count === undefined && end === undefined) throw new TaskFailure('must specify count or end in with_sequence');
  if (count !== undefined) {
    if (count === 0) return [];
    end = start + count * stride - 1;
  }
  const last = end!;
  if (stride > 0 && last < start) throw new TaskFailure('to count backwards make stride negative');
  if (stride < 0 && last > start) throw new TaskFailure("to count forward don't make stride negative");
  if (stride === 0) return [];
  const out: string[] = [];
  for (let i = start; stride > 0 ? i <= last : i >= last; i += stride) out.push(pyFormat(format, i));
  return out;
}

/** Glob one pattern (`*`, `?`, `[...]` in its last part) in the loop's file directories. */
function fileglob(pattern: string, dirs: FileDirs): string[] {
  const bases = isAbsolute(pattern) ? [''] : dirs;
  for (const base of bases) {
    const full = base ? join(base, pattern) : pattern;
    const dir = dirname(full);
    if (!existsSync(dir)) continue;
    const name = full.slice(dir.length + 1);
    const re = new RegExp(
      '^' +
        name
          .replace(/[.+^${}()|\\]/g, '\\$&')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]') +
        '$',
    );
    const found = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && re.test(e.name) && !(e.name.startsWith('.') && !name.startsWith('.')))
      .map((e) => join(dir, e.name))
      .sort();
    if (found.length) return found;
  }
  return [];
}

/** The first of `terms` (names, or `{files: [...], paths: [...], skip: bool}`) that exists. */
function firstFound(terms: unknown[], dirs: FileDirs): unknown {
  const candidates: string[] = [];
  let skip = false;
  for (const t of terms) {
    if (isDict(t)) {
      const files = listify(t.files).flatMap((f) => String(f).split(/[,;]/));
      const paths = listify(t.paths).flatMap((p) => String(p).split(/[,:;]/));
      skip ||= Boolean(t.skip);
      if (paths.length) for (const p of paths) for (const f of files) candidates.push(join(p, f));
      else candidates.push(...files);
    } else candidates.push(String(t));
  }
  for (const c of candidates) {
    for (const full of isAbsolute(c) ? [c] : dirs.map((d) => join(d, c))) if (existsSync(full)) return full;
  }
  if (skip) return undefined;
  throw new TaskFailure(
    'No file was found when using first_found. Use errors=ignore to allow this task to be skipped if no files are found',
  );
}
