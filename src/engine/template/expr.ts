// Ansible's (Jinja's) expression language: `when:` conditions and every `{{ ... }}` of a template.
// A small tokenizer + recursive-descent parser + tree-walking evaluator: nothing is ever eval'd, only
// the filters, tests and methods listed in src/engine/template/filters.ts can be called, and only own
// properties of plain objects/arrays are read.
import {
  Callable,
  compare,
  ExprError,
  float,
  isFloat,
  isNumber,
  PyFloat,
  isInt,
  isPlainObject,
  isTuple,
  NAMESPACE,
  PyDate,
  need,
  toStr,
  truthy,
  tuple,
  typeName,
  Undef,
  type CompareOp,
} from './values.js';
import {
  FILTERS,
  GLOBALS,
  LOOKUP_NAMES,
  METHODS,
  TESTS,
  applyFilter,
  applyTest,
  callMethod,
  type CallArgs,
} from './filters.js';
import { percentFormat } from './pyfmt.js';

type Node<K extends string, T> = { kind: K; col: number } & T;

export interface Call {
  args: Expr[];
  kwargs: [string, Expr][];
}

export type Expr =
  | Node<'lit', { value: null | boolean | number | PyFloat | string }>
  | Node<'list', { items: Expr[]; tuple?: boolean }>
  | Node<'dict', { pairs: [Expr, Expr][] }>
  | Node<'name', { name: string }>
  | Node<'attr', { obj: Expr; key: string | number }> // a.b, a.0
  | Node<'index', { obj: Expr; index: Expr }> // a['b'], a[0], a[i]
  | Node<'slice', { obj: Expr; start?: Expr; stop?: Expr; step?: Expr }> // a[1:], a[:-1], a[::-1]
  | Node<'unary', { op: 'not' | '-' | '+'; arg: Expr }>
  | Node<'binary', { op: '+' | '-' | '*' | '/' | '//' | '%' | '**' | '~'; left: Expr; right: Expr }>
  | Node<'logic', { op: 'and' | 'or'; left: Expr; right: Expr }>
  | Node<'cond', { test: Expr; yes: Expr; no?: Expr }> // a if c else b
  | Node<'compare', { first: Expr; rest: Array<{ op: CompareOp; expr: Expr; col: number }> }>
  | Node<'test', { subject: Expr; test: string; negated: boolean } & Call>
  | Node<'filter', { subject: Expr; filter: string } & Call>
  | Node<'method', { obj: Expr; method: string } & Call>
  | Node<'call', { fn: string } & Call>
  | Node<'mcall', { callee: Expr } & Call>; // a macro (or caller) of the template

// ---------------------------------------------------------------- tokenizer

type Tok =
  | { t: 'num'; v: number | PyFloat; col: number }
  | { t: 'str'; v: string; col: number }
  | { t: 'name'; v: string; col: number }
  | { t: 'op'; v: string; col: number }
  | { t: 'eof'; v: ''; col: number };

const OPS = [
  '**',
  '==',
  '!=',
  '<=',
  '>=',
  '//',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '~',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  '.',
  '|',
  ':',
  '=',
];

/**
 * `rawStrings`: a backslash in a string literal is itself (only `\'` inside '…' and `\"` inside "…"
 * stand for the quote), as Ansible makes it in the `{{ }}` of playbook strings: YAML has already
 * handled escapes there, so `regex_replace('(a)', '\\1')` means a backreference. Elsewhere (`when:`,
 * `{% %}`, template files) Jinja's escapes (`\n`, `\\`) apply.
 */
function tokenize(src: string, offset: number, rawStrings = false): Tok[] {
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
      // A literal with a "." or an exponent is a float, as in Python: `1.0` is not `1`.
      toks.push({ t: 'num', v: /[.eE]/.test(m[0]) ? float(Number(m[0])) : Number(m[0]), col: col(i) });
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
        if (ch === '\\' && i + 1 < src.length && rawStrings) {
          out += src[i + 1] === c ? c : ch;
          i += src[i + 1] === c ? 2 : 1;
          continue;
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
    const hints: Record<string, string> = { '!': ' (use "not" or "!=")', '&': ' (use "and")' };
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

/** Parse an expression; a `{{ ... }}` wrapping the whole text is stripped. Throws ExprError. */
export function parseExpr(text: string): Expr {
  let body = text;
  let offset = 0;
  const m = /^(\s*)\{\{([\s\S]*)\}\}\s*$/.exec(text);
  if (m && !m[2].includes('{{') && !m[2].includes('}}')) {
    body = m[2];
    offset = m[1].length + 2;
  } else if (/\{\{|\{%/.test(text)) {
    const at = text.search(/\{\{|\{%/);
    throw new ExprError('a condition is an expression: "{{ }}" may only wrap the whole of it', at + 1);
  }
  return parseExprAt(body, offset);
}

/** Parse `src`, which starts at `offset` (0-based) of a larger text: columns count from there. */
export function parseExprAt(
  src: string,
  offset: number,
  opts: { rawStrings?: boolean; callables?: ReadonlySet<string> } = {},
): Expr {
  const p = new Parser(tokenize(src, offset, opts.rawStrings), opts.callables);
  if (p.peek().t === 'eof') throw new ExprError('empty expression', p.peek().col);
  const e = p.expression();
  p.end();
  return e;
}

/** The parts of `{% for a, b in expr if cond %}` after "for", parsed with the expression grammar. */
export function parseForHead(
  src: string,
  offset: number,
  callables?: ReadonlySet<string>,
): { targets: string[]; iter: Expr; filter?: Expr } {
  const p = new Parser(tokenize(src, offset), callables);
  const targets = [p.identifier('a loop variable')];
  while (p.isOp(',')) {
    p.next();
    targets.push(p.identifier('a loop variable'));
  }
  p.expectName('in', 'after the loop variables');
  const iter = p.noCondExpression();
  let filter: Expr | undefined;
  if (p.isName('if')) {
    p.next();
    filter = p.expression();
  }
  p.end();
  return { targets, iter, filter };
}

/** `{% set a = expr %}` / `{% set a, b = expr %}` after "set". */
export function parseSetHead(
  src: string,
  offset: number,
  callables?: ReadonlySet<string>,
): { targets: string[]; value: Expr } {
  const p = new Parser(tokenize(src, offset), callables);
  const targets = [p.identifier('a variable name')];
  while (p.isOp(',')) {
    p.next();
    targets.push(p.identifier('a variable name'));
  }
  p.expectOp('=', 'after the variable name');
  const value = p.expression();
  p.end();
  return { targets, value };
}

/** `{% with a = 1, b = x %}` after "with": the names and their values (none: `{% with %}`). */
export function parseWithHead(src: string, offset: number, callables?: ReadonlySet<string>): [string, Expr][] {
  const p = new Parser(tokenize(src, offset), callables);
  const out: [string, Expr][] = [];
  while (p.peek().t !== 'eof') {
    const name = p.identifier('a variable name');
    p.expectOp('=', 'after the variable name');
    out.push([name, p.expression()]);
    if (!p.isOp(',')) break;
    p.next();
  }
  p.end();
  return out;
}

function describe(t: Tok): string {
  if (t.t === 'eof') return 'end of expression';
  if (t.t === 'str') return `string ${JSON.stringify(t.v)}`;
  return `"${t.v}"`;
}

/** `{% macro m(a, b=1) %}`'s name and parameters, after "macro". */
export function parseMacroHead(
  src: string,
  offset: number,
  callables?: ReadonlySet<string>,
): { name: string; params: { name: string; dflt?: Expr }[] } {
  const p = new Parser(tokenize(src, offset), callables);
  const name = p.identifier('a macro name');
  const params = p.params();
  p.end();
  return { name, params };
}

/** `{% call(a) m(x) %}` after "call": the caller's parameters (optional) and the call. */
export function parseCallHead(
  src: string,
  offset: number,
  callables?: ReadonlySet<string>,
): { params: { name: string; dflt?: Expr }[]; call: Expr } {
  const p = new Parser(tokenize(src, offset), callables);
  const params = p.isOp('(') ? p.params() : [];
  const call = p.expression();
  p.end();
  if (call.kind !== 'mcall') throw new ExprError('"{% call %}" needs a macro call', call.col);
  return { params, call };
}

/** `{% filter upper | replace("a", "b") %}` after "filter": the filters, applied to `subject`. */
export function parseFilterHead(src: string, offset: number, subject: string, callables?: ReadonlySet<string>): Expr {
  const p = new Parser(tokenize(src, offset), callables);
  const e = p.filterChain({ kind: 'name', name: subject, col: offset + 1 });
  p.end();
  if (e.kind !== 'filter') throw new ExprError('expected a filter name', offset + 1);
  return e;
}

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly callables: ReadonlySet<string> = new Set(),
  ) {}

  /** `(a, b=1)`: a macro's parameters; the "(" is next. */
  params(): { name: string; dflt?: Expr }[] {
    this.expectOp('(', 'after the macro name');
    const out: { name: string; dflt?: Expr }[] = [];
    while (!this.isOp(')')) {
      const name = this.identifier('a parameter name');
      let dflt: Expr | undefined;
      if (this.isOp('=')) {
        this.next();
        dflt = this.expression();
      } else if (out.some((x) => x.dflt))
        throw new ExprError('a parameter without a default after one with a default', this.peek().col);
      out.push({ name, dflt });
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expectOp(')', 'to close the parameters');
    return out;
  }

  /** A `|`-chain of filters after `node` (the whole of a `{% filter %}`'s head). */
  filterChain(node: Expr): Expr {
    if (!this.isOp('|')) {
      // The first filter is written without a "|".
      this.toks.splice(this.i, 0, { t: 'op', v: '|', col: this.peek().col });
    }
    return this.filters(node);
  }

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
      const hint = v === '=' || t.t !== 'op' || t.v !== '=' ? '' : ' (use "==" to compare)';
      throw new ExprError(`expected "${v}" ${what}, found ${describe(t)}${hint}`, t.col);
    }
    this.next();
  }
  expectName(v: string, what: string): void {
    if (!this.isName(v))
      throw new ExprError(`expected "${v}" ${what}, found ${describe(this.peek())}`, this.peek().col);
    this.next();
  }
  identifier(what: string): string {
    const t = this.next();
    if (t.t !== 'name' || RESERVED.has(t.v)) throw new ExprError(`expected ${what}, found ${describe(t)}`, t.col);
    return t.v;
  }
  end(): void {
    const rest = this.peek();
    if (rest.t === 'eof') return;
    if (rest.t === 'op' && rest.v === '=') throw new ExprError('unexpected "=" (use "==" to compare)', rest.col);
    if (rest.t === 'op' && (rest.v === '{' || rest.v === '}'))
      throw new ExprError(`unexpected "${rest.v}" ("{{ }}" may only wrap the whole expression)`, rest.col);
    throw new ExprError(`unexpected ${describe(rest)}`, rest.col);
  }

  /** `a if c else b` (else optional, as Jinja: undefined then). */
  expression(): Expr {
    const yes = this.or();
    if (!this.isName('if')) return yes;
    const col = this.next().col;
    const test = this.or();
    let no: Expr | undefined;
    if (this.isName('else')) {
      this.next();
      no = this.expression();
    }
    return { kind: 'cond', test, yes, no, col };
  }

  /** An expression without a trailing `if` (the iterable of a for loop, whose `if` filters it). */
  noCondExpression(): Expr {
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
    let left = this.pow();
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const t = this.next();
      left = { kind: 'binary', op: t.v as '*' | '/' | '//' | '%', left, right: this.pow(), col: t.col };
    }
    return left;
  }

  // As Jinja: `**` groups to the left and binds looser than unary minus (`-2 ** 2` is 4).
  private pow(): Expr {
    let left = this.unary(true);
    while (this.isOp('**')) {
      const t = this.next();
      left = { kind: 'binary', op: '**', left, right: this.unary(true), col: t.col };
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
      case 'str': {
        // Adjacent strings concatenate, as in Jinja and Python.
        let v = t.v;
        while (this.peek().t === 'str') v += this.next().v;
        return { kind: 'lit', value: v, col: t.col };
      }
      case 'name':
        if (Object.hasOwn(KEYWORD_LITERALS, t.v)) {
          return { kind: 'lit', value: KEYWORD_LITERALS[t.v], col: t.col };
        }
        if (RESERVED.has(t.v)) throw new ExprError(`unexpected "${t.v}"`, t.col);
        if (this.isOp('(') && this.callables.has(t.v)) {
          const call = this.callArgs(`"${t.v}"`);
          return { kind: 'mcall', callee: { kind: 'name', name: t.v, col: t.col }, ...call, col: t.col };
        }
        if (this.isOp('(')) {
          if (!Object.hasOwn(GLOBALS, t.v)) {
            throw new ExprError(
              `unknown function "${t.v}" (functions: ${Object.keys(GLOBALS).join(', ')})`,
              this.peek().col,
            );
          }
          const call = this.callArgs(`"${t.v}"`);
          checkArity(`function "${t.v}"`, GLOBALS[t.v], call, t.col);
          if (['lookup', 'query', 'q'].includes(t.v)) checkLookupName(call);
          return { kind: 'call', fn: t.v, ...call, col: t.col };
        }
        return { kind: 'name', name: t.v, col: t.col };
      case 'op':
        if (t.v === '(') {
          if (this.isOp(')')) {
            this.next();
            return { kind: 'list', items: [], tuple: true, col: t.col }; // ()
          }
          const e = this.expression();
          if (this.isOp(',')) {
            // A tuple: a list that prints as a tuple.
            const items = [e];
            while (this.isOp(',')) {
              this.next();
              if (this.isOp(')')) break;
              items.push(this.expression());
            }
            this.expectOp(')', 'to close "("');
            return { kind: 'list', items, tuple: true, col: t.col };
          }
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
        if (t.v === '{') {
          const pairs: [Expr, Expr][] = [];
          while (!this.isOp('}')) {
            const k = this.expression();
            this.expectOp(':', 'after a dict key');
            pairs.push([k, this.expression()]);
            if (!this.isOp(',')) break;
            this.next();
          }
          this.expectOp('}', 'to close the dict');
          return { kind: 'dict', pairs, col: t.col };
        }
        throw new ExprError(`unexpected ${describe(t)}`, t.col);
      case 'eof':
        throw new ExprError('unexpected end of expression', t.col);
    }
  }

  /** A filter or test name, which may be qualified (`ansible.builtin.to_json`), as Jinja reads it. */
  private dotted(first: string): string {
    let name = first;
    while (this.isOp('.') && this.peek(1).t === 'name') {
      this.next();
      name += `.${this.next().v}`;
    }
    return name;
  }

  /** `(a, b, key=c)`; the "(" is next. */
  private callArgs(what: string): Call {
    this.expectOp('(', `after ${what}`);
    const args: Expr[] = [];
    const kwargs: [string, Expr][] = [];
    while (!this.isOp(')')) {
      const t = this.peek();
      if (t.t === 'name' && this.isOp('=', 1)) {
        this.next();
        this.next();
        kwargs.push([t.v, this.expression()]);
      } else {
        if (kwargs.length) throw new ExprError(`positional argument after a keyword argument in ${what}`, t.col);
        args.push(this.expression());
      }
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expectOp(')', `to close the arguments of ${what}`);
    return { args, kwargs };
  }

  private postfix(node: Expr): Expr {
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const k = this.next();
        if (k.t === 'name' && this.isOp('(') && node.kind === 'name' && this.callables.has(node.name)) {
          // An imported template's macro: `forms.input(...)`.
          const call = this.callArgs(`"${node.name}.${k.v}"`);
          const callee: Expr = { kind: 'attr', obj: node, key: k.v, col: k.col };
          node = { kind: 'mcall', callee, ...call, col: k.col };
        } else if (k.t === 'name' && this.isOp('(')) {
          if (!Object.hasOwn(METHODS, k.v)) {
            throw new ExprError(
              `unknown method "${k.v}" (function calls are not supported; methods: ${Object.keys(METHODS).join(', ')})`,
              this.peek().col,
            );
          }
          const call = this.callArgs(`"${k.v}()"`);
          checkArity(`method "${k.v}"`, METHODS[k.v], call, k.col);
          node = { kind: 'method', obj: node, method: k.v, ...call, col: k.col };
        } else if (k.t === 'name' || k.t === 'num')
          node = { kind: 'attr', obj: node, key: typeof k.v === 'string' ? k.v : Number(k.v), col: k.col };
        else throw new ExprError(`expected an attribute name after ".", found ${describe(k)}`, k.col);
      } else if (this.isOp('[')) {
        const col = this.next().col;
        let start: Expr | undefined;
        if (!this.isOp(':')) start = this.expression();
        if (this.isOp(':')) {
          this.next();
          const stop = this.isOp(']') || this.isOp(':') ? undefined : this.expression();
          let step: Expr | undefined;
          if (this.isOp(':')) {
            this.next();
            if (!this.isOp(']')) step = this.expression();
          }
          this.expectOp(']', 'to close "["');
          node = { kind: 'slice', obj: node, start, stop, step, col };
          continue;
        }
        this.expectOp(']', 'to close "["');
        node = { kind: 'index', obj: node, index: start!, col };
      } else if (this.isOp('(')) {
        throw new ExprError('function calls are not supported', this.peek().col);
      } else {
        return node;
      }
    }
  }

  filters(node: Expr): Expr {
    for (;;) {
      if (this.isOp('|')) {
        this.next();
        const f = this.next();
        if (f.t !== 'name') throw new ExprError(`expected a filter name after "|", found ${describe(f)}`, f.col);
        const name = pluginName(this.dotted(f.v));
        if (!Object.hasOwn(FILTERS, name)) {
          throw new ExprError(`unknown filter "${f.v}" (docs/templates.md lists the filters)`, f.col);
        }
        const call = this.isOp('(') ? this.callArgs(`filter "${name}"`) : { args: [], kwargs: [] };
        checkArity(`filter "${name}"`, FILTERS[name], call, f.col);
        node = this.postfix({ kind: 'filter', subject: node, filter: name, ...call, col: f.col });
      } else if (this.isName('is')) {
        this.next();
        let negated = false;
        if (this.isName('not')) {
          this.next();
          negated = true;
        }
        const t = this.next();
        if (t.t !== 'name' && !(t.t === 'op' && ['==', '!=', '<', '>', '<=', '>='].includes(t.v)))
          throw new ExprError(`expected a test name after "is", found ${describe(t)}`, t.col);
        const name = t.t === 'name' ? pluginName(this.dotted(t.v)) : String(t.v);
        if (!Object.hasOwn(TESTS, name))
          throw new ExprError(`unknown test "${name}" (docs/templates.md lists the tests)`, t.col);
        let call: Call = { args: [], kwargs: [] };
        if (this.isOp('(')) call = this.callArgs(`test "${name}"`);
        else if (TESTS[name].min > 0 || (TESTS[name].max > 0 && startsOperand(this.peek())))
          call = { args: [this.unary(false)], kwargs: [] };
        checkArity(`test "${name}"`, TESTS[name], call, t.col);
        node = { kind: 'test', subject: node, test: name, negated, ...call, col: t.col };
      } else {
        return node;
      }
    }
  }
}

/** A lookup whose name is written as a string literal must be one relay-play has (checked before running). */
function checkLookupName(call: Call): void {
  const first = call.args[0];
  if (first?.kind !== 'lit' || typeof first.value !== 'string') return;
  const name = pluginName(first.value);
  if (!(LOOKUP_NAMES as readonly string[]).includes(name))
    throw new ExprError(
      `unknown lookup "${first.value}" (docs/templates.md lists the lookups: ${LOOKUP_NAMES.join(', ')})`,
      first.col,
    );
  (first as { value: string }).value = name;
}

/** Ansible's collection names for the built-in plugins (and json_query's, to refuse it clearly). */
function pluginName(name: string): string {
  return name.replace(/^ansible\.(builtin|legacy)\./, '').replace(/^community\.general\.(json_query)$/, '$1');
}

/** Whether `t` can start a test's lone argument written without parentheses (`x is divisibleby 3`). */
function startsOperand(t: Tok): boolean {
  return t.t === 'num' || t.t === 'str' || (t.t === 'name' && !RESERVED.has(t.v));
}

function checkArity(
  what: string,
  spec: { min: number; max: number; kwargs?: readonly string[] | '*' },
  call: Call,
  col: number,
): void {
  const n = call.args.length;
  if (n < spec.min)
    throw new ExprError(
      `${what} needs ${spec.min === spec.max ? '' : 'at least '}${spec.min} argument(s), got ${n}`,
      col,
    );
  if (n > spec.max) throw new ExprError(`${what} takes at most ${spec.max} argument(s), got ${n}`, col);
  if (spec.kwargs === '*') return;
  for (const [k] of call.kwargs) {
    if (!spec.kwargs?.includes(k))
      throw new ExprError(
        `${what} has no argument "${k}"${spec.kwargs?.length ? ` (it takes ${spec.kwargs.join(', ')})` : ''}`,
        col,
      );
  }
}

// The values' helpers, for the modules that import them from here.
export * from './values.js';

// ---------------------------------------------------------------- evaluator

/**
 * Variables may hold templates that refer to other variables (`url: "http://{{ host }}:{{ port }}"`);
 * as in Ansible, they are rendered when used, with the variables of the place that uses them. The
 * template engine (src/engine/template/jinja.ts) plugs itself in here.
 */
export type TemplateResolver = (text: string, scope: Scope) => unknown;
let resolver: TemplateResolver | undefined;
export function setTemplateResolver(r: TemplateResolver): void {
  resolver = r;
}

/** Marks a structure whose strings are never rendered on access (hostvars: each host's own). */
export const OPAQUE = Symbol('relay-play.opaque');

/**
 * Data that came from hosts (registered results, set_fact, gathered facts) and loop items is never
 * rendered again, as Ansible treats it as unsafe: a command's output that reads "{{ secret }}" stays
 * that text. `vars[RAW]` names such variables; objects inside them are remembered in rawObjects.
 */
export const RAW = Symbol('relay-play.raw-names');
const rawObjects = new WeakSet<object>();

/** Remember `v` (and every list and dict inside it) as data, never a template. Returns `v`. */
export function markRaw<T>(v: T): T {
  if (v && typeof v === 'object' && !rawObjects.has(v)) {
    rawObjects.add(v);
    for (const x of Object.values(v)) markRaw(x);
  }
  return v;
}

const isRawName = (vars: Record<string | symbol, unknown>, name: string) =>
  (vars[RAW] as Set<string> | undefined)?.has(name) ?? false;

/** Where an expression is evaluated: its variables, and the variables being rendered right now. */
export interface Scope {
  vars: Record<string, unknown>;
  /** Names whose templates are being rendered: meeting one again is a loop. */
  resolving: readonly string[];
}

export const scopeOf = (vars: Record<string, unknown>): Scope => ({ vars, resolving: [] });

const isTemplate = (v: unknown): v is string => typeof v === 'string' && (v.includes('{{') || v.includes('{%'));

/** Render the templates inside a variable's value (a copy; the value itself is untouched). */
export function resolveValue(v: unknown, scope: Scope, name: string): unknown {
  // A namespace() is changed in place by `{% set ns.x %}`: never a copy.
  if (v && typeof v === 'object' && (rawObjects.has(v) || NAMESPACE in v)) return v;
  if (isTemplate(v)) {
    if (!resolver) return v;
    if (scope.resolving.includes(name)) {
      throw new ExprError(
        `recursive loop detected in template: "${name}" refers to itself (${[...scope.resolving, name].join(' → ')})`,
        1,
      );
    }
    return resolver(v, { vars: scope.vars, resolving: [...scope.resolving, name] });
  }
  if (Array.isArray(v)) {
    if (!v.some(needsResolving)) return v;
    return v.map((x) => resolveValue(x, scope, name));
  }
  if (isPlainObject(v) && !(OPAQUE in v) && needsResolving(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      Object.defineProperty(out, k, {
        value: resolveValue(x, scope, name),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return v;
}

function needsResolving(v: unknown, depth = 0): boolean {
  if (depth > 20 || (v && typeof v === 'object' && rawObjects.has(v))) return false;
  if (isTemplate(v)) return true;
  if (Array.isArray(v)) return v.some((x) => needsResolving(x, depth + 1));
  if (isPlainObject(v) && !(OPAQUE in v)) return Object.values(v).some((x) => needsResolving(x, depth + 1));
  return false;
}

function pathOf(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

const DATE_FIELDS = {
  date: ['year', 'month', 'day'],
  datetime: ['year', 'month', 'day', 'hour', 'minute', 'second', 'microsecond'],
} as const;

/** Own-property lookup only: no prototype, no methods, no getters on non-plain values (a date's fields). */
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
  if (obj instanceof PyDate && (DATE_FIELDS[obj.kind] as readonly unknown[]).includes(key))
    return obj[key as (typeof DATE_FIELDS)['datetime'][number]];
  return new Undef(sub);
}

/** Evaluate a parsed expression. Throws UndefinedVarError for undefined variables, ExprError for type errors. */
export function evalExpr(expr: Expr, vars: Record<string, unknown>): unknown {
  return need(evalIn(expr, scopeOf(vars)));
}

/** Evaluate, keeping an undefined result as Undef (for `default` and `is defined` in the template layer). */
export function evalIn(e: Expr, scope: Scope): unknown {
  switch (e.kind) {
    case 'lit':
      return e.value;
    case 'list': {
      const items = e.items.map((i) => need(evalIn(i, scope)));
      return e.tuple ? tuple(items) : items;
    }
    case 'dict': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of e.pairs) {
        const key = need(evalIn(k, scope));
        if (typeof key !== 'string' && typeof key !== 'number')
          throw new ExprError(`a dict key must be a string or a number, got ${typeName(key)}`, k.col);
        Object.defineProperty(out, String(key), {
          value: need(evalIn(v, scope)),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    case 'name':
      if (!Object.hasOwn(scope.vars, e.name)) return new Undef(e.name);
      return isRawName(scope.vars, e.name) ? scope.vars[e.name] : resolveValue(scope.vars[e.name], scope, e.name);
    case 'attr':
    case 'index': {
      const obj = evalIn(e.obj, scope);
      const key = e.kind === 'attr' ? e.key : need(evalIn(e.index, scope));
      if (obj instanceof Undef) return new Undef(pathOf(obj.path, typeof key === 'number' ? key : String(key)));
      const v = getItem(obj, key, exprPath(e.obj));
      // hostvars[h].x may still be a template (hostvars is not rendered as a whole), unless it is data.
      const raw =
        obj !== null &&
        typeof obj === 'object' &&
        (rawObjects.has(obj) || isRawName(obj as Record<string, unknown>, String(key)));
      return isTemplate(v) && !raw ? resolveValue(v, scope, exprPath(e)) : v;
    }
    case 'slice': {
      const obj = need(evalIn(e.obj, scope));
      if (typeof obj !== 'string' && !Array.isArray(obj)) throw new ExprError(`cannot slice ${typeName(obj)}`, e.col);
      const num = (x?: Expr) => (x ? need(evalIn(x, scope)) : undefined);
      const [a, b, c] = [num(e.start), num(e.stop), num(e.step)];
      if ([a, b, c].some((x) => x !== undefined && x !== null && !isInt(x)))
        throw new ExprError('slice indices must be integers or None', e.col);
      const items = typeof obj === 'string' ? [...obj] : obj;
      const picked = pySlice(items, a as number | undefined, b as number | undefined, c as number | undefined, e.col);
      return typeof obj === 'string' ? picked.join('') : picked;
    }
    case 'unary': {
      const v = need(evalIn(e.arg, scope));
      if (e.op === 'not') return !truthy(v);
      if (!isNumber(v)) throw new ExprError(`unary "${e.op}" needs a number, got ${typeName(v)}`, e.col);
      return e.op === '-' ? (isFloat(v) ? float(-v) : -v) : v;
    }
    case 'logic': {
      const l = need(evalIn(e.left, scope));
      if (e.op === 'and') return truthy(l) ? need(evalIn(e.right, scope)) : l;
      return truthy(l) ? l : need(evalIn(e.right, scope));
    }
    case 'cond':
      if (truthy(need(evalIn(e.test, scope)))) return evalIn(e.yes, scope);
      return e.no ? evalIn(e.no, scope) : new Undef('(if without else)', true);
    case 'binary':
      return arith(e.op, need(evalIn(e.left, scope)), need(evalIn(e.right, scope)), e.col);
    case 'compare': {
      let left = need(evalIn(e.first, scope));
      for (const { op, expr, col } of e.rest) {
        const right = need(evalIn(expr, scope));
        if (!compare(op, left, right, col)) return false;
        left = right;
      }
      return true;
    }
    case 'test':
      return applyTest(e.test, evalIn(e.subject, scope), callArgs(e, scope), e.col) !== e.negated;
    case 'filter':
      return applyFilter(e.filter, evalIn(e.subject, scope), callArgs(e, scope), e.col);
    case 'method':
      return callMethod(e.method, need(evalIn(e.obj, scope)), callArgs(e, scope), e.col);
    case 'mcall': {
      const fn = need(evalIn(e.callee, scope));
      if (!(fn instanceof Callable)) throw new ExprError(`"${exprPath(e.callee)}" is not a macro`, e.col);
      const a = callArgs(e, scope);
      return fn.call(a.args, a.kwargs);
    }
    case 'call':
      return GLOBALS[e.fn].fn(callArgs(e, scope), e.col, {
        vars: scope.vars,
        variable: (name) =>
          Object.hasOwn(scope.vars, name) ? { value: need(resolveValue(scope.vars[name], scope, name)) } : undefined,
      });
  }
}

/** Python's items[start:stop:step]. */
function pySlice<T>(items: T[], start: number | undefined, stop: number | undefined, step = 1, col: number): T[] {
  if (step === 0) throw new ExprError('slice step cannot be zero', col);
  const n = items.length;
  const norm = (i: number | undefined, dflt: number, lo: number, hi: number) =>
    i === undefined || i === null ? dflt : Math.min(Math.max(i < 0 ? i + n : i, lo), hi);
  const out: T[] = [];
  if (step > 0) for (let i = norm(start, 0, 0, n); i < norm(stop, n, 0, n); i += step) out.push(items[i]);
  else for (let i = norm(start, n - 1, -1, n - 1); i > norm(stop, -1, -1, n - 1); i += step) out.push(items[i]);
  return out;
}

function callArgs(c: Call, scope: Scope): CallArgs {
  return {
    args: c.args.map((a) => need(evalIn(a, scope))),
    kwargs: Object.fromEntries(c.kwargs.map(([k, v]) => [k, need(evalIn(v, scope))])),
  };
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
      if (i.kind === 'lit' && (typeof i.value === 'string' || typeof i.value === 'number'))
        return pathOf(base, i.value);
      return `${base}[${exprPath(i)}]`;
    }
    case 'lit':
      return JSON.stringify(e.value);
    default:
      return '(expression)';
  }
}

function arith(op: string, a: unknown, b: unknown, col: number): unknown {
  if (op === '~') return toStr(a) + toStr(b);
  // Python's printf-style formatting: a tuple gives the values, a dict the names, anything else is one value.
  if (op === '%' && typeof a === 'string') {
    try {
      return percentFormat(a, isTuple(b) ? b : isPlainObject(b) ? b : [b]);
    } catch (e) {
      throw new ExprError((e as Error).message, col);
    }
  }
  const bad = () => new ExprError(`cannot apply "${op}" to ${typeName(a)} and ${typeName(b)}`, col);
  if (op === '+') {
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  }
  // Python's bool is an int: True + 1 is 2.
  if (typeof a === 'boolean' && (isNumber(b) || typeof b === 'boolean')) return arith(op, Number(a), b, col);
  if (typeof b === 'boolean' && (isNumber(a) || (op === '*' && (typeof a === 'string' || Array.isArray(a)))))
    return arith(op, a, Number(b), col);
  if (op === '*' && typeof a === 'string' && typeof b === 'number' && Number.isInteger(b))
    return a.repeat(Math.max(0, b));
  if (op === '*' && Array.isArray(a) && typeof b === 'number' && Number.isInteger(b))
    return Array.from({ length: Math.max(0, b) }, () => a).flat(1);
  if (!isNumber(a) || !isNumber(b)) throw bad();
  const [x, y] = [a.valueOf(), b.valueOf()];
  // Python's numbers: an int result stays an int, anything a float touches (and true division) is a float.
  const floats = isFloat(a) || isFloat(b);
  const num = (n: number) => (floats ? float(n) : n);
  const nonzero = () => {
    if (y === 0) throw new ExprError(floats ? 'float division by zero' : 'division by zero', col);
  };
  switch (op) {
    case '+':
      return num(x + y);
    case '-':
      return num(x - y);
    case '*':
      return num(x * y);
    case '/':
      nonzero();
      return float(x / y);
    case '//':
      nonzero();
      return num(Math.floor(x / y));
    case '%': {
      nonzero();
      const r = x % y;
      return num(r !== 0 && r < 0 !== y < 0 ? r + y : r);
    }
    case '**':
      if (x === 0 && y < 0) throw new ExprError('0.0 cannot be raised to a negative power', col);
      return floats || y < 0 ? float(x ** y) : x ** y;
  }
  throw bad();
}

// ---------------------------------------------------------------- pre-flight helpers

/**
 * Top-level variable names the expression needs, in order of appearance. Names used only under
 * `is defined` / `is undefined` / `| default(...)` are left out, and so are names guarded by an
 * earlier `x is defined and ...` (or `x is undefined or ...`), since evaluation never reaches them undefined.
 */
export function exprRootNames(expr: Expr, bound: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  const add = (n: string) => {
    if (!out.includes(n)) out.push(n);
  };
  const walkCall = (c: Call, guarded: ReadonlySet<string>) => {
    c.args.forEach((a) => walk(a, guarded));
    c.kwargs.forEach(([, a]) => walk(a, guarded));
  };
  const walk = (e: Expr, guarded: ReadonlySet<string>): void => {
    switch (e.kind) {
      case 'lit':
        return;
      case 'list':
        return e.items.forEach((i) => walk(i, guarded));
      case 'dict':
        return e.pairs.forEach(([k, v]) => (walk(k, guarded), walk(v, guarded)));
      case 'name':
        if (!guarded.has(e.name)) add(e.name);
        return;
      case 'attr':
        return walk(e.obj, guarded);
      case 'index':
        walk(e.obj, guarded);
        return walk(e.index, guarded);
      case 'slice':
        walk(e.obj, guarded);
        if (e.start) walk(e.start, guarded);
        if (e.stop) walk(e.stop, guarded);
        if (e.step) walk(e.step, guarded);
        return;
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
      case 'cond':
        walk(e.test, guarded);
        walk(e.yes, new Set([...guarded, ...definedIf(e.test, true)]));
        if (e.no) walk(e.no, new Set([...guarded, ...definedIf(e.test, false)]));
        return;
      case 'compare':
        walk(e.first, guarded);
        return e.rest.forEach((r) => walk(r.expr, guarded));
      case 'test':
        if (e.test === 'defined' || e.test === 'undefined') walkSkippingRoot(e.subject, guarded);
        else walk(e.subject, guarded);
        return walkCall(e, guarded);
      case 'filter':
        if (e.filter === 'default' || e.filter === 'd') walkSkippingRoot(e.subject, guarded);
        else walk(e.subject, guarded);
        return walkCall(e, guarded);
      case 'method':
        walk(e.obj, guarded);
        return walkCall(e, guarded);
      case 'call':
        return walkCall(e, guarded);
      case 'mcall':
        walk(e.callee, guarded);
        return walkCall(e, guarded);
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
  walk(expr, bound);
  return out;
}

function rootName(e: Expr): string | undefined {
  if (e.kind === 'name') return e.name;
  if (e.kind === 'attr' || e.kind === 'index') return rootName(e.obj);
  return undefined;
}

/** Root names known to be defined when `e` evaluates to `when` (true/false). */
export function definedIf(e: Expr, when: boolean): string[] {
  if (e.kind === 'test' && (e.test === 'defined' || e.test === 'undefined')) {
    const saysDefined = (e.test === 'defined') !== e.negated;
    const r = rootName(e.subject);
    return r && saysDefined === when ? [r] : [];
  }
  if (e.kind === 'unary' && e.op === 'not') return definedIf(e.arg, !when);
  if (e.kind === 'logic') {
    // a and b true → both true; a or b false → both false.
    if ((e.op === 'and' && when) || (e.op === 'or' && !when))
      return [...definedIf(e.left, when), ...definedIf(e.right, when)];
  }
  return [];
}
