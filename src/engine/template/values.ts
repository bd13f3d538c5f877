// Values as Jinja sees them: Python-like truth, equality, comparison, str() and repr(), and the errors
// of evaluating an expression. Shared by the evaluator (./expr.ts) and the filters and tests (./filters.ts).

import { PyFloat, isFloat, isNumber, numberRepr } from '../util/pyfloat.js';
import { PyDate } from '../util/pydate.js';

export { PyFloat, float, isFloat, isInt, isNumber, plain } from '../util/pyfloat.js';
export { PyDate } from '../util/pydate.js';

export type CompareOp = '==' | '!=' | '<' | '>' | '<=' | '>=' | 'in' | 'not in';

export class ExprError extends Error {
  constructor(
    message: string,
    /** 1-based index into the text given to the parser (for a one-line `when:`, its column). */
    readonly column: number,
  ) {
    super(message);
    this.name = 'ExprError';
  }
}

/**
 * An undefined variable was used. NOTE: as specified, `name` holds the variable's full dotted path
 * (e.g. "result.stdout"), not the class name; `varName` is the same value under a clearer name.
 */
export class UndefinedVarError extends Error {
  readonly varName: string;
  constructor(path: string) {
    super(`"${path}" is undefined`);
    this.varName = path;
    this.name = path;
  }
}

/**
 * An undefined value that remembers its path; only `is defined`/`default` may look at it. A `silent`
 * one (an inline `if` without `else` that was false) is empty text to anything else, as in Ansible.
 */
export class Undef {
  constructor(
    readonly path: string,
    readonly silent = false,
  ) {}
}

export function need<T>(v: T | Undef): T {
  if (v instanceof Undef) {
    if (v.silent) return '' as T;
    throw new UndefinedVarError(v.path);
  }
  return v;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof PyFloat) &&
    !(v instanceof Callable) &&
    !(v instanceof PyDate)
  );
}

/** A value a template can call: a `{% macro %}` (or a `{% call %}` block's `caller`). */
export class Callable {
  constructor(
    readonly name: string,
    readonly call: (args: unknown[], kwargs: Record<string, unknown>) => unknown,
  ) {}
  toString(): string {
    return `<Macro '${this.name}'>`;
  }
}

/** Marks what namespace() makes: a dict whose attributes `{% set ns.x = … %}` may change. */
export const NAMESPACE = Symbol('relay-play.namespace');

export function namespace(init: Record<string, unknown>): Record<string, unknown> {
  const ns = { ...init };
  Object.defineProperty(ns, NAMESPACE, { value: true });
  return ns;
}

export function isNamespace(v: unknown): v is Record<string, unknown> {
  return isPlainObject(v) && NAMESPACE in v;
}

export function typeName(v: unknown): string {
  if (v === null) return 'none';
  if (isNumber(v)) return isFloat(v) ? 'float' : 'int';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyDate) return v.kind;
  if (typeof v === 'object') return 'dict';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

/** Jinja-style `==` on lists and maps. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isNumber(a) && isNumber(b)) return a.valueOf() === b.valueOf();
  if (a instanceof PyDate && b instanceof PyDate) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export function compare(op: CompareOp, a: unknown, b: unknown, col: number): boolean {
  switch (op) {
    case '==':
      return deepEqual(a, b);
    case '!=':
      return !deepEqual(a, b);
    case 'in':
      return contains(b, a, col);
    case 'not in':
      return !contains(b, a, col);
  }
  const dates = a instanceof PyDate && b instanceof PyDate && a.comparable(b);
  const ok = (isNumber(a) && isNumber(b)) || (typeof a === 'string' && typeof b === 'string') || dates;
  if (!ok) throw new ExprError(`cannot compare ${typeName(a)} with ${typeName(b)} using "${op}"`, col);
  const x = dates ? (a as PyDate).time() : (a as number | string).valueOf();
  const y = dates ? (b as PyDate).time() : (b as number | string).valueOf();
  switch (op) {
    case '<':
      return x < y;
    case '>':
      return x > y;
    case '<=':
      return x <= y;
    default:
      return x >= y;
  }
}

function contains(container: unknown, item: unknown, col: number): boolean {
  if (typeof container === 'string') {
    if (typeof item !== 'string')
      throw new ExprError(`"in <string>" needs a string on the left, got ${typeName(item)}`, col);
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => deepEqual(x, item));
  if (isPlainObject(container)) return typeof item === 'string' && Object.hasOwn(container, item);
  throw new ExprError(`"in" needs a string, list or dict on the right, got ${typeName(container)}`, col);
}

/** Python's str() as Jinja prints values: True/False/None, and lists and dicts as Python writes them. */
export function toStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof PyDate) return v.toString();
  return pyRepr(v);
}

const tuples = new WeakSet<unknown[]>();

export const isTuple = (v: unknown): v is unknown[] => Array.isArray(v) && tuples.has(v);

/** Mark a list as a Python tuple: it prints as `('a', 1)` (a filter's pairs, splitext's parts). */
export function tuple<T extends unknown[]>(items: T): T {
  tuples.add(items);
  return items;
}

/** Python's repr(): what `{{ [1, 'a'] }}` inside text shows in Ansible; `sortKeys` as pprint does. */
export function pyRepr(v: unknown, sortKeys = false): string {
  if (v instanceof Undef) return `${need(v)}`;
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return pyStrRepr(v);
  if (isNumber(v)) return numberRepr(v);
  if (v instanceof PyDate) return v.repr();
  if (Array.isArray(v)) {
    const body = v.map((x) => pyRepr(x, sortKeys)).join(', ');
    return tuples.has(v) ? `(${body}${v.length === 1 ? ',' : ''})` : `[${body}]`;
  }
  if (isNamespace(v)) return `<Namespace ${pyRepr({ ...v }, sortKeys)}>`;
  if (isPlainObject(v)) {
    const keys = sortKeys ? Object.keys(v).sort() : Object.keys(v);
    return `{${keys.map((k) => `${pyRepr(k)}: ${pyRepr(v[k], sortKeys)}`).join(', ')}}`;
  }
  return String(v);
}

function pyStrRepr(v: string): string {
  const q = v.includes("'") && !v.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of v) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += `\\${q}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\x${c.toString(16)}`;
    else out += ch;
  }
  return out + q;
}

/** Whether Python's repr() of `v` is no literal (a date's `datetime.date(…)`, a namespace, a macro). */
export function unliteral(v: unknown, depth = 0): boolean {
  if (v instanceof PyDate || v instanceof Callable || isNamespace(v)) return true;
  if (depth > 50 || !v || typeof v !== 'object') return false;
  return Object.values(v).some((x) => unliteral(x, depth + 1));
}

/**
 * What `"{{ x }}"` of a value makes in ansible-core 2.14 where the value is no literal: text (a date's
 * str(), a list holding one as its repr, which literal_eval cannot read back); any other value as it is.
 */
export function asTemplated(v: unknown): unknown {
  return unliteral(v) ? toStr(v) : v;
}

/** Jinja truthiness: [] {} '' 0 none false → false. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '' || Number.isNaN(v)) return false;
  if (v instanceof PyFloat) return v.valueOf() !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}
