// Safe `when:` / `failed_when:` / `changed_when:` expressions in Jinja/Ansible syntax.
// A small tokenizer + recursive-descent parser + tree-walking evaluator: nothing is ever eval'd,
// there are no function calls, and only own properties of plain objects/arrays are read.

export class ExprError extends Error {
  constructor(
    message: string,
    /** 1-based column in the text given to parseExpr. */
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

type Node<K extends string, T> = { kind: K; col: number } & T;

export type Expr =
  | Node<'lit', { value: null | boolean | number | string }>
  | Node<'list', { items: Expr[] }>
  | Node<'name', { name: string }>
  | Node<'attr', { obj: Expr; key: string | number }> // a.b, a.0
  | Node<'index', { obj: Expr; index: Expr }> // a['b'], a[0], a[i]
  | Node<'unary', { op: 'not' | '-' | '+'; arg: Expr }>
  | Node<'binary', { op: '+' | '-' | '*' | '/' | '//' | '%' | '~'; left: Expr; right: Expr }>
  | Node<'logic', { op: 'and' | 'or'; left: Expr; right: Expr }>
  | Node<'compare', { first: Expr; rest: Array<{ op: CompareOp; expr: Expr; col: number }> }>
  | Node<'test', { subject: Expr; test: string; negated: boolean }>
  | Node<'filter', { subject: Expr; filter: string; args: Expr[] }>;

type CompareOp = '==' | '!=' | '<' | '>' | '<=' | '>=' | 'in' | 'not in';

// ---------------------------------------------------------------- tokenizer

type Tok =
  | { t: 'num'; v: number; col: number }
  | { t: 'str'; v: string; col: number }
  | { t: 'name'; v: string; col: number }
  | { t: 'op'; v: string; col: number }
  | { t: 'eof'; v: ''; col: number };

const OPS = ['==', '!=', '<=', '>=', '//', '<', '>', '+', '-', '*', '/', '%', '~', '(', ')', '[', ']', ',', '.', '|'];

function tokenize(src: string, offset: number): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const col = (at: number) => offset + at + 1;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const prev = toks[toks.length - 1];
    if (/[0-9]/.test(c)) {
      // After a '.', only an integer (a.0.b); otherwise ints and floats.
      const re = prev?.t === 'op' && prev.v === '.' ? /^[0-9]+/ : /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/;
      const m = re.exec(src.slice(i))!;
      toks.push({ t: 'num', v: Number(m[0]), col: col(i) });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      toks.push({ t: 'name', v: m[0], col: col(i) });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      const start = i;
      let out = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new ExprError('unterminated string', col(start));
        const ch = src[i];
        if (ch === c) {
          i++;
          break;
        }
        if (ch === '\\' && i + 1 < src.length) {
          const e = src[i + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
          out += map[e] ?? `\\${e}`;
          i += 2;
          continue;
        }
        out += ch;
        i++;
      }
      toks.push({ t: 'str', v: out, col: col(start) });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      toks.push({ t: 'op', v: op, col: col(i) });
      i += op.length;
      continue;
    }
    const hints: Record<string, string> = {
      '=': ' (use "==" to compare)',
      '!': ' (use "not" or "!=")',
      '&': ' (use "and")',
      '{': ' ("{{ }}" may only wrap the whole expression)',
      '}': ' ("{{ }}" may only wrap the whole expression)',
    };
    throw new ExprError(`unexpected character "${c}"${hints[c] ?? ''}`, col(i));
  }
  toks.push({ t: 'eof', v: '', col: col(src.length) });
  return toks;
}

// ---------------------------------------------------------------- parser

const KEYWORD_LITERALS: Record<string, null | boolean> = {
  true: true,
  True: true,
  false: false,
  False: false,
  none: null,
  None: null,
  null: null,
};
const RESERVED = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else']);

/** filter name → [min args, max args] */
const FILTERS: Record<string, [number, number]> = {
  length: [0, 0],
  count: [0, 0],
  int: [0, 1],
  float: [0, 1],
  bool: [0, 0],
  string: [0, 0],
  lower: [0, 0],
  upper: [0, 0],
  trim: [0, 0],
  default: [0, 2],
  d: [0, 2],
};

const TESTS = new Set([
  'defined',
  'undefined',
  'none',
  'changed',
  'change',
  'failed',
  'failure',
  'succeeded',
  'success',
  'successful',
  'skipped',
  'skip',
]);

/** Parse an expression; a `{{ ... }}` wrapping the whole text is stripped. Throws ExprError. */
export function parseExpr(text: string): Expr {
  let body = text;
  let offset = 0;
  const m = /^(\s*)\{\{([\s\S]*)\}\}\s*$/.exec(text);
  if (m && !m[2].includes('{{') && !m[2].includes('}}')) {
    body = m[2];
    offset = m[1].length + 2;
  }
  const p = new Parser(tokenize(body, offset));
  if (p.peek().t === 'eof') throw new ExprError('empty expression', p.peek().col);
  const e = p.expression();
  const rest = p.peek();
  if (rest.t !== 'eof') {
    if (rest.t === 'op' && rest.v === '(') throw new ExprError('function calls are not supported', rest.col);
    throw new ExprError(`unexpected ${describe(rest)}`, rest.col);
  }
  return e;
}

function describe(t: Tok): string {
  if (t.t === 'eof') return 'end of expression';
  if (t.t === 'str') return `string ${JSON.stringify(t.v)}`;
  return `"${t.v}"`;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  peek(k = 0): Tok {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)];
  }
  next(): Tok {
    const t = this.peek();
    if (t.t !== 'eof') this.i++;
    return t;
  }
  isOp(v: string, k = 0): boolean {
    const t = this.peek(k);
    return t.t === 'op' && t.v === v;
  }
  isName(v: string, k = 0): boolean {
    const t = this.peek(k);
    return t.t === 'name' && t.v === v;
  }
  expectOp(v: string, what: string): void {
    if (!this.isOp(v)) {
      const t = this.peek();
      throw new ExprError(`expected "${v}" ${what}, found ${describe(t)}`, t.col);
    }
    this.next();
  }

  expression(): Expr {
    return this.or();
  }

  private or(): Expr {
    let left = this.and();
    while (this.isName('or')) {
      const col = this.next().col;
      left = { kind: 'logic', op: 'or', left, right: this.and(), col };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isName('and')) {
      const col = this.next().col;
      left = { kind: 'logic', op: 'and', left, right: this.not(), col };
    }
    return left;
  }

  private not(): Expr {
    if (this.isName('not')) {
      const col = this.next().col;
      return { kind: 'unary', op: 'not', arg: this.not(), col };
    }
    return this.compare();
  }

  private compare(): Expr {
    const first = this.math1();
    const rest: Array<{ op: CompareOp; expr: Expr; col: number }> = [];
    for (;;) {
      const t = this.peek();
      let op: CompareOp | undefined;
      if (t.t === 'op' && ['==', '!=', '<', '>', '<=', '>='].includes(t.v)) {
        op = t.v as CompareOp;
        this.next();
      } else if (this.isName('in')) {
        op = 'in';
        this.next();
      } else if (this.isName('not') && this.isName('in', 1)) {
        op = 'not in';
        this.next();
        this.next();
      }
      if (!op) break;
      rest.push({ op, expr: this.math1(), col: t.col });
    }
    return rest.length ? { kind: 'compare', first, rest, col: first.col } : first;
  }

  private math1(): Expr {
    let left = this.concat();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      left = { kind: 'binary', op: t.v as '+' | '-', left, right: this.concat(), col: t.col };
    }
    return left;
  }

  private concat(): Expr {
    let left = this.math2();
    while (this.isOp('~')) {
      const t = this.next();
      left = { kind: 'binary', op: '~', left, right: this.math2(), col: t.col };
    }
    return left;
  }

  private math2(): Expr {
    let left = this.unary(true);
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const t = this.next();
      left = { kind: 'binary', op: t.v as '*' | '/' | '//' | '%', left, right: this.unary(true), col: t.col };
    }
    return left;
  }

  // As Jinja: unary minus binds tighter than filters/tests written after it (`-x | int` is `(-x) | int`).
  private unary(withFilter: boolean): Expr {
    let node: Expr;
    if (this.isOp('-') || this.isOp('+')) {
      const t = this.next();
      node = { kind: 'unary', op: t.v as '-' | '+', arg: this.unary(false), col: t.col };
    } else {
      node = this.primary();
    }
    node = this.postfix(node);
    if (withFilter) node = this.filters(node);
    return node;
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.t) {
      case 'num':
        return { kind: 'lit', value: t.v, col: t.col };
      case 'str':
        return { kind: 'lit', value: t.v, col: t.col };
      case 'name':
        if (Object.hasOwn(KEYWORD_LITERALS, t.v)) {
          return { kind: 'lit', value: KEYWORD_LITERALS[t.v], col: t.col };
        }
        if (RESERVED.has(t.v)) throw new ExprError(`unexpected "${t.v}"`, t.col);
        return { kind: 'name', name: t.v, col: t.col };
      case 'op':
        if (t.v === '(') {
          const e = this.expression();
          this.expectOp(')', 'to close "("');
          return e;
        }
        if (t.v === '[') {
          const items: Expr[] = [];
          while (!this.isOp(']')) {
            items.push(this.expression());
            if (!this.isOp(',')) break;
            this.next();
          }
          this.expectOp(']', 'to close the list');
          return { kind: 'list', items, col: t.col };
        }
        throw new ExprError(`unexpected ${describe(t)}`, t.col);
      case 'eof':
        throw new ExprError('unexpected end of expression', t.col);
    }
  }

  private postfix(node: Expr): Expr {
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const k = this.next();
        if (k.t === 'name') node = { kind: 'attr', obj: node, key: k.v, col: k.col };
        else if (k.t === 'num') node = { kind: 'attr', obj: node, key: k.v, col: k.col };
        else throw new ExprError(`expected an attribute name after ".", found ${describe(k)}`, k.col);
      } else if (this.isOp('[')) {
        const col = this.next().col;
        const index = this.expression();
        this.expectOp(']', 'to close "["');
        node = { kind: 'index', obj: node, index, col };
      } else if (this.isOp('(')) {
        throw new ExprError('function calls are not supported', this.peek().col);
      } else {
        return node;
      }
    }
  }

  private filters(node: Expr): Expr {
    for (;;) {
      if (this.isOp('|')) {
        this.next();
        const f = this.next();
        if (f.t !== 'name') throw new ExprError(`expected a filter name after "|", found ${describe(f)}`, f.col);
        const arity = Object.hasOwn(FILTERS, f.v) ? FILTERS[f.v] : undefined;
        if (!arity) {
          throw new ExprError(`unknown filter "${f.v}" (supported: ${Object.keys(FILTERS).join(', ')})`, f.col);
        }
        const args: Expr[] = [];
        if (this.isOp('(')) {
          this.next();
          while (!this.isOp(')')) {
            args.push(this.expression());
            if (!this.isOp(',')) break;
            this.next();
          }
          this.expectOp(')', `to close the arguments of "${f.v}"`);
        }
        if (args.length < arity[0] || args.length > arity[1]) {
          throw new ExprError(`filter "${f.v}" takes at most ${arity[1]} argument(s), got ${args.length}`, f.col);
        }
        node = this.postfix({ kind: 'filter', subject: node, filter: f.v, args, col: f.col });
      } else if (this.isName('is')) {
        this.next();
        let negated = false;
        if (this.isName('not')) {
          this.next();
          negated = true;
        }
        const t = this.next();
        if (t.t !== 'name') throw new ExprError(`expected a test name after "is", found ${describe(t)}`, t.col);
        if (!TESTS.has(t.v)) throw new ExprError(`unknown test "${t.v}" (supported: ${[...TESTS].join(', ')})`, t.col);
        node = { kind: 'test', subject: node, test: t.v, negated, col: t.col };
      } else {
        return node;
      }
    }
  }
}

// ---------------------------------------------------------------- evaluator

/** An undefined value that remembers its path; only `is defined`/`default` may look at it. */
class Undef {
  constructor(readonly path: string) {}
}

function need<T>(v: T | Undef): T {
  if (v instanceof Undef) throw new UndefinedVarError(v.path);
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pathOf(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/** Own-property lookup only: no prototype, no methods, no getters on non-plain values. */
function getItem(obj: unknown, key: unknown, path: string): unknown {
  if (typeof key !== 'string' && typeof key !== 'number') {
    return new Undef(`${path}[${typeName(key)}]`);
  }
  const sub = pathOf(path, key);
  if (Array.isArray(obj) || typeof obj === 'string') {
    if (typeof key !== 'number' || !Number.isInteger(key)) return new Undef(sub);
    const i = key < 0 ? obj.length + key : key;
    if (i < 0 || i >= obj.length) return new Undef(sub);
    return obj[i];
  }
  if (isPlainObject(obj)) {
    const k = String(key);
    return Object.hasOwn(obj, k) ? obj[k] : new Undef(sub);
  }
  return new Undef(sub);
}

/** Evaluate a parsed expression. Throws UndefinedVarError for undefined variables, ExprError for type errors. */
export function evalExpr(expr: Expr, vars: Record<string, unknown>): unknown {
  return need(ev(expr, vars));
}

function ev(e: Expr, vars: Record<string, unknown>): unknown {
  switch (e.kind) {
    case 'lit':
      return e.value;
    case 'list':
      return e.items.map((i) => need(ev(i, vars)));
    case 'name':
      return Object.hasOwn(vars, e.name) ? vars[e.name] : new Undef(e.name);
    case 'attr':
    case 'index': {
      const obj = ev(e.obj, vars);
      const key = e.kind === 'attr' ? e.key : need(ev(e.index, vars));
      if (obj instanceof Undef) return new Undef(pathOf(obj.path, typeof key === 'number' ? key : String(key)));
      return getItem(obj, key, exprPath(e.obj));
    }
    case 'unary': {
      const v = need(ev(e.arg, vars));
      if (e.op === 'not') return !truthy(v);
      if (typeof v !== 'number') throw new ExprError(`unary "${e.op}" needs a number, got ${typeName(v)}`, e.col);
      return e.op === '-' ? -v : v;
    }
    case 'logic': {
      const l = need(ev(e.left, vars));
      if (e.op === 'and') return truthy(l) ? need(ev(e.right, vars)) : l;
      return truthy(l) ? l : need(ev(e.right, vars));
    }
    case 'binary':
      return arith(e.op, need(ev(e.left, vars)), need(ev(e.right, vars)), e.col);
    case 'compare': {
      let left = need(ev(e.first, vars));
      for (const { op, expr, col } of e.rest) {
        const right = need(ev(expr, vars));
        if (!compare(op, left, right, col)) return false;
        left = right;
      }
      return true;
    }
    case 'test':
      return runTest(e, ev(e.subject, vars)) !== e.negated;
    case 'filter':
      return runFilter(e, ev(e.subject, vars), vars);
  }
}

/** Display path of a path-like expression (for undefined errors). */
function exprPath(e: Expr): string {
  switch (e.kind) {
    case 'name':
      return e.name;
    case 'attr':
      return pathOf(exprPath(e.obj), e.key);
    case 'index': {
      const i = e.index;
      const base = exprPath(e.obj);
      if (i.kind === 'lit' && (typeof i.value === 'string' || typeof i.value === 'number')) return pathOf(base, i.value);
      return `${base}[${exprPath(i)}]`;
    }
    case 'lit':
      return JSON.stringify(e.value);
    default:
      return '(expression)';
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'none';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'dict';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

function arith(op: string, a: unknown, b: unknown, col: number): unknown {
  if (op === '~') return toStr(a) + toStr(b);
  const bad = () => new ExprError(`cannot apply "${op}" to ${typeName(a)} and ${typeName(b)}`, col);
  if (op === '+') {
    if (typeof a === 'number' && typeof b === 'number') return a + b;
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    throw bad();
  }
  if (op === '*' && typeof a === 'string' && typeof b === 'number' && Number.isInteger(b)) return a.repeat(Math.max(0, b));
  if (typeof a !== 'number' || typeof b !== 'number') throw bad();
  switch (op) {
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      if (b === 0) throw new ExprError('division by zero', col);
      return a / b;
    case '//':
      if (b === 0) throw new ExprError('division by zero', col);
      return Math.floor(a / b);
    case '%':
      if (b === 0) throw new ExprError('division by zero', col);
      return ((a % b) + b) % b;
  }
  throw bad();
}

/** Jinja-style `==` on lists and maps (also the `eq` template helper). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function compare(op: CompareOp, a: unknown, b: unknown, col: number): boolean {
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
  const ok = (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
  if (!ok) throw new ExprError(`cannot compare ${typeName(a)} with ${typeName(b)} using "${op}"`, col);
  const x = a as number | string;
  const y = b as number | string;
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
    if (typeof item !== 'string') throw new ExprError(`"in <string>" needs a string on the left, got ${typeName(item)}`, col);
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => deepEqual(x, item));
  if (isPlainObject(container)) return typeof item === 'string' && Object.hasOwn(container, item);
  throw new ExprError(`"in" needs a string, list or dict on the right, got ${typeName(container)}`, col);
}

function runTest(e: Extract<Expr, { kind: 'test' }>, v: unknown): boolean {
  switch (e.test) {
    case 'defined':
      return !(v instanceof Undef);
    case 'undefined':
      return v instanceof Undef;
    case 'none':
      return need(v) === null;
  }
  const r = need(v);
  if (!isPlainObject(r)) {
    throw new ExprError(`the "${e.test}" test needs a registered task result (a dict), got ${typeName(r)}`, e.col);
  }
  switch (e.test) {
    case 'changed':
    case 'change':
      return truthy(r.changed);
    case 'failed':
    case 'failure':
      return truthy(r.failed);
    case 'skipped':
    case 'skip':
      return truthy(r.skipped);
    default: // succeeded, success, successful
      return !truthy(r.failed);
  }
}

const BOOL_TRUE_STRINGS = new Set(['y', 'yes', 'on', '1', 'true', 't']);

function runFilter(e: Extract<Expr, { kind: 'filter' }>, raw: unknown, vars: Record<string, unknown>): unknown {
  if (e.filter === 'default' || e.filter === 'd') {
    const boolean = e.args[1] ? truthy(need(ev(e.args[1], vars))) : false;
    if (raw instanceof Undef || (boolean && !truthy(raw))) return e.args[0] ? need(ev(e.args[0], vars)) : '';
    return raw;
  }
  const v = need(raw);
  switch (e.filter) {
    case 'length':
    case 'count':
      if (typeof v === 'string') return [...v].length;
      if (Array.isArray(v)) return v.length;
      if (isPlainObject(v)) return Object.keys(v).length;
      throw new ExprError(`"${e.filter}" needs a string, list or dict, got ${typeName(v)}`, e.col);
    case 'int':
    case 'float': {
      const fallback = e.args[0] ? need(ev(e.args[0], vars)) : e.filter === 'int' ? 0 : 0.0;
      let n: number;
      if (typeof v === 'number') n = v;
      else if (typeof v === 'boolean') n = v ? 1 : 0;
      else if (typeof v === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)) n = Number(v);
      else return fallback;
      return e.filter === 'int' ? Math.trunc(n) : n;
    }
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number') return v === 1;
      if (typeof v === 'string') return BOOL_TRUE_STRINGS.has(v.trim().toLowerCase());
      return false;
    case 'string':
      return toStr(v);
    case 'lower':
      return toStr(v).toLowerCase();
    case 'upper':
      return toStr(v).toUpperCase();
    case 'trim':
      return toStr(v).trim();
  }
  throw new ExprError(`unknown filter "${e.filter}"`, e.col);
}

/** Python-ish str(): True/False/None, JSON for containers. */
function toStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Jinja truthiness: [] {} '' 0 none false → false. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '' || Number.isNaN(v)) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

// ---------------------------------------------------------------- pre-flight helpers

/**
 * Top-level variable names the expression needs, in order of appearance. Names used only under
 * `is defined` / `is undefined` / `| default(...)` are left out, and so are names guarded by an
 * earlier `x is defined and ...` (or `x is undefined or ...`), since evaluation never reaches them undefined.
 */
export function exprRootNames(expr: Expr): string[] {
  const out: string[] = [];
  const add = (n: string) => {
    if (!out.includes(n)) out.push(n);
  };
  const walk = (e: Expr, guarded: ReadonlySet<string>): void => {
    switch (e.kind) {
      case 'lit':
        return;
      case 'list':
        return e.items.forEach((i) => walk(i, guarded));
      case 'name':
        if (!guarded.has(e.name)) add(e.name);
        return;
      case 'attr':
        return walk(e.obj, guarded);
      case 'index':
        walk(e.obj, guarded);
        return walk(e.index, guarded);
      case 'unary':
        return walk(e.arg, guarded);
      case 'binary':
        walk(e.left, guarded);
        return walk(e.right, guarded);
      case 'logic': {
        walk(e.left, guarded);
        const more = e.op === 'and' ? definedIf(e.left, true) : definedIf(e.left, false);
        return walk(e.right, new Set([...guarded, ...more]));
      }
      case 'compare':
        walk(e.first, guarded);
        return e.rest.forEach((r) => walk(r.expr, guarded));
      case 'test':
        if (e.test === 'defined' || e.test === 'undefined') return walkSkippingRoot(e.subject, guarded);
        return walk(e.subject, guarded);
      case 'filter':
        if (e.filter === 'default' || e.filter === 'd') walkSkippingRoot(e.subject, guarded);
        else walk(e.subject, guarded);
        return e.args.forEach((a) => walk(a, guarded));
    }
  };
  // `a.b[c] is defined`: `a` may be undefined, but `c` is still evaluated.
  const walkSkippingRoot = (e: Expr, guarded: ReadonlySet<string>): void => {
    if (e.kind === 'name') return;
    if (e.kind === 'attr') return walkSkippingRoot(e.obj, guarded);
    if (e.kind === 'index') {
      walkSkippingRoot(e.obj, guarded);
      return walk(e.index, guarded);
    }
    walk(e, guarded);
  };
  walk(expr, new Set());
  return out;
}

function rootName(e: Expr): string | undefined {
  if (e.kind === 'name') return e.name;
  if (e.kind === 'attr' || e.kind === 'index') return rootName(e.obj);
  return undefined;
}

/** Root names known to be defined when `e` evaluates to `when` (true/false). */
function definedIf(e: Expr, when: boolean): string[] {
  if (e.kind === 'test' && (e.test === 'defined' || e.test === 'undefined')) {
    const saysDefined = (e.test === 'defined') !== e.negated;
    const r = rootName(e.subject);
    return r && saysDefined === when ? [r] : [];
  }
  if (e.kind === 'unary' && e.op === 'not') return definedIf(e.arg, !when);
  if (e.kind === 'logic') {
    // a and b true → both true; a or b false → both false.
    if ((e.op === 'and' && when) || (e.op === 'or' && !when)) return [...definedIf(e.left, when), ...definedIf(e.right, when)];
  }
  return [];
}
