// Jinja templates as Ansible renders them: `{{ expr }}` (expressions of src/engine/template/expr.ts, the
// same engine as `when:`), `{% if %}`/`{% elif %}`/`{% else %}`, `{% for %}` (with `loop.*`, `else`
// and an `if` filter), `{% set %}`, `{% raw %}`, `{# comments #}` and whitespace control (`{%-`,
// `-%}`). As in Ansible: trim_blocks (a newline right after a block tag is dropped), no
// autoescaping, an undefined variable is an error, `None` prints as nothing, and a string that is
// exactly one `{{ expr }}` keeps the value's type. Task arguments, loops, variables and `.j2`
// template files all go through here.
import {
  ExprError,
  OPAQUE,
  Undef,
  UndefinedVarError,
  evalIn,
  exprRootNames,
  isNumber,
  isPlainObject,
  parseExprAt,
  parseForHead,
  parseSetHead,
  scopeOf,
  setTemplateResolver,
  toStr,
  truthy,
  typeName,
  type Expr,
  type Scope,
} from './expr.js';
import { literalEval } from './pyliteral.js';
import { setLookupTemplateRenderer } from './lookups.js';

export class TemplateError extends Error {
  constructor(
    message: string,
    /** 1-based line and column in the template text, when known. */
    readonly line?: number,
    readonly col?: number,
    /** Path of the undefined variable (e.g. "foo" or "foo.bar") when that is what went wrong. */
    readonly undefinedName?: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** What `omit` renders to: a task argument whose value is exactly this is left out (as Ansible's). */
export const OMIT = '__omit_place_holder__relay_play__';

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'out'; expr: Expr; at: number }
  | { kind: 'if'; branches: { cond: Expr; body: Node[]; at: number }[]; otherwise: Node[] }
  | { kind: 'for'; targets: string[]; iter: Expr; filter?: Expr; body: Node[]; otherwise: Node[]; at: number }
  | { kind: 'set'; targets: string[]; value: Expr; at: number }
  | { kind: 'setblock'; target: string; body: Node[] };

interface Compiled {
  nodes: Node[];
  /** Set when the whole text is one `{{ expr }}`. */
  whole?: Expr;
  /** Set when the text is exactly `{{ name }}` (ansible-core's SINGLE_VAR shortcut). */
  single?: string;
}

// ---------------------------------------------------------------- lexer

type Tag =
  { kind: 'text'; text: string } | { kind: 'var' | 'block'; body: string; at: number; end: number; open: number };

function lineCol(text: string, index: number): { line: number; col: number } {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return { line, col: index - before.lastIndexOf('\n') };
}

function syntax(text: string, index: number, message: string): TemplateError {
  const { line, col } = lineCol(text, index);
  return new TemplateError(`template syntax error: ${message}`, line, col);
}

/** End of a `{{ }}` / `{% %}` tag starting at `from`: skips strings and nested braces. */
function tagEnd(text: string, from: number, close: '}}' | '%}'): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const j = text.indexOf(c, i + 1);
      if (j < 0) return -1;
      i = j;
      continue;
    }
    if (close === '}}' && c === '{') depth++;
    else if (close === '}}' && c === '}' && depth > 0) depth--;
    else if (text.startsWith(close, i) && depth === 0) return i;
  }
  return -1;
}

function lex(text: string): Tag[] {
  const tags: Tag[] = [];
  let i = 0;
  let text0 = '';
  let trimNext = false; // a `-` closed the previous tag: strip the whitespace that follows
  let dropNewline = false; // trim_blocks after a block tag or comment
  const pushText = (s: string) => {
    if (trimNext) s = s.replace(/^\s+/, '');
    else if (dropNewline) s = s.replace(/^\r?\n/, '');
    trimNext = dropNewline = false;
    text0 += s;
  };
  const flush = (stripEnd: boolean) => {
    if (stripEnd) text0 = text0.replace(/\s+$/, '');
    if (text0) tags.push({ kind: 'text', text: text0 });
    text0 = '';
  };
  while (i < text.length) {
    const open = text.slice(i).search(/\{[{%#]/);
    if (open < 0) {
      pushText(text.slice(i));
      break;
    }
    const at = i + open;
    pushText(text.slice(i, at));
    const kind = text[at + 1];
    const strip = text[at + 2] === '-';
    const start = at + 2 + (strip || text[at + 2] === '+' ? 1 : 0);
    if (kind === '#') {
      const end = text.indexOf('#}', start);
      if (end < 0) throw syntax(text, at, 'comment "{#" is never closed with "#}"');
      flush(strip);
      trimNext = text[end - 1] === '-';
      dropNewline = !trimNext;
      i = end + 2;
      continue;
    }
    const close = kind === '{' ? '}}' : '%}';
    const end = tagEnd(text, start, close);
    if (end < 0) throw syntax(text, at, `"${text.slice(at, at + 2)}" is never closed with "${close}"`);
    const rstrip = text[end - 1] === '-' && end - 1 >= start;
    const body = text.slice(start, rstrip ? end - 1 : end);
    flush(strip);
    if (kind === '%' && /^\s*raw\s*$/.test(body)) {
      // {% raw %}…{% endraw %}: the text between as it is.
      const m = /\{%-?\s*endraw\s*-?%\}/.exec(text.slice(end + 2));
      if (!m) throw syntax(text, at, '"{% raw %}" without "{% endraw %}"');
      let raw = text.slice(end + 2, end + 2 + m.index);
      if (rstrip) raw = raw.replace(/^\s+/, '');
      else raw = raw.replace(/^\r?\n/, '');
      if (m[0].startsWith('{%-')) raw = raw.replace(/\s+$/, '');
      tags.push({ kind: 'text', text: raw });
      i = end + 2 + m.index + m[0].length;
      trimNext = m[0].endsWith('-%}');
      dropNewline = !trimNext;
      continue;
    }
    tags.push({ kind: kind === '{' ? 'var' : 'block', body, at: start, end, open: at });
    trimNext = rstrip;
    dropNewline = kind === '%' && !rstrip;
    i = end + 2;
  }
  flush(false);
  return tags;
}

// ---------------------------------------------------------------- parser

function parse(text: string, rawStrings: boolean): Compiled {
  // Jinja drops one trailing newline of the source (keep_trailing_newline off); Ansible puts back
  // as many as the source ended with (preserve_trailing_newlines, see withNewlines).
  const tags = lex(text.replace(/(\r\n|\r|\n)$/, ''));
  let pos = 0;
  const expr = (src: string, at: number, raw = false) => {
    try {
      return parseExprAt(src, at, { rawStrings: raw });
    } catch (e) {
      throw asTemplateError(e, text);
    }
  };
  const head = <T>(fn: (src: string, at: number) => T, src: string, at: number): T => {
    try {
      return fn(src, at);
    } catch (e) {
      throw asTemplateError(e, text);
    }
  };

  /** Nodes until one of `stops` (a block tag's first word), which is left for the caller. */
  const body = (
    stops: string[],
    opener?: { word: string; at: number },
  ): { nodes: Node[]; stop?: { word: string; rest: string; at: number } } => {
    const nodes: Node[] = [];
    while (pos < tags.length) {
      const tag = tags[pos++];
      if (tag.kind === 'text') {
        nodes.push({ kind: 'text', text: tag.text });
        continue;
      }
      if (tag.kind === 'var') {
        if (!tag.body.trim()) throw syntax(text, tag.at, 'empty "{{ }}"');
        nodes.push({ kind: 'out', expr: expr(tag.body, tag.at, rawStrings), at: tag.at });
        continue;
      }
      const m = /^(\s*)([A-Za-z_]+)/.exec(tag.body);
      if (!m) throw syntax(text, tag.at, 'expected a statement name after "{%"');
      const word = m[2];
      const restAt = tag.at + m[0].length;
      const rest = tag.body.slice(m[0].length);
      if (stops.includes(word)) return { nodes, stop: { word, rest, at: restAt } };
      switch (word) {
        case 'if': {
          const branches = [{ cond: expr(rest, restAt), body: [] as Node[], at: restAt }];
          let otherwise: Node[] = [];
          for (;;) {
            const b = body(['elif', 'else', 'endif'], { word: 'if', at: tag.open });
            branches[branches.length - 1].body = b.nodes;
            if (b.stop!.word === 'elif') {
              branches.push({ cond: expr(b.stop!.rest, b.stop!.at), body: [], at: b.stop!.at });
              continue;
            }
            if (b.stop!.word === 'else') {
              const e = body(['endif'], { word: 'if', at: tag.open });
              otherwise = e.nodes;
            }
            break;
          }
          nodes.push({ kind: 'if', branches, otherwise });
          break;
        }
        case 'for': {
          const h = head(parseForHead, rest, restAt);
          const b = body(['else', 'endfor'], { word: 'for', at: tag.open });
          const otherwise = b.stop!.word === 'else' ? body(['endfor'], { word: 'for', at: tag.open }).nodes : [];
          nodes.push({ kind: 'for', ...h, body: b.nodes, otherwise, at: tag.at });
          break;
        }
        case 'set': {
          if (!rest.includes('=')) {
            const name = rest.trim();
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
              throw syntax(text, restAt, `expected "{% set name = value %}" or "{% set name %}…{% endset %}"`);
            const b = body(['endset'], { word: 'set', at: tag.open });
            nodes.push({ kind: 'setblock', target: name, body: b.nodes });
            break;
          }
          nodes.push({ kind: 'set', ...head(parseSetHead, rest, restAt), at: tag.at });
          break;
        }
        default: {
          const closers = ['endif', 'endfor', 'elif', 'else', 'endset'];
          if (closers.includes(word)) throw syntax(text, tag.open, `"{% ${word} %}" without a matching opening tag`);
          throw syntax(
            text,
            tag.open,
            `unsupported statement "{% ${word} %}" (supported: if/elif/else/endif, for/else/endfor, set, raw)`,
          );
        }
      }
    }
    if (opener)
      throw syntax(
        text,
        opener.at,
        `"{% ${opener.word} %}" is never closed (expected "{% ${stops[stops.length - 1]} %}")`,
      );
    return { nodes };
  };
  const { nodes } = body([]);
  const whole = nodes.length === 1 && nodes[0].kind === 'out' ? nodes[0].expr : undefined;
  // Python's "$" also matches before a final newline.
  const single = /^\{\{\s*(\w*)\s*\}\}\n?$/.exec(text)?.[1];
  return { nodes, whole, single };
}

function asTemplateError(e: unknown, text: string): TemplateError {
  if (e instanceof TemplateError) return e;
  if (e instanceof ExprError) {
    const { line, col } = lineCol(text, e.column - 1);
    return new TemplateError(e.message, line, col);
  }
  return new TemplateError((e as Error).message);
}

const caches = { playbook: new Map<string, Compiled>(), file: new Map<string, Compiled>() };

/**
 * Parse a template (cached). Throws TemplateError with the line and column of a syntax error. A
 * playbook string's `{{ }}` string literals keep backslashes as written (as Ansible's do); a
 * template file's follow Jinja's escapes.
 */
export function compileTemplate(text: string, kind: 'playbook' | 'file' = 'playbook'): Compiled {
  const cache = caches[kind];
  let c = cache.get(text);
  if (!c) {
    c = parse(text, kind === 'playbook');
    if (cache.size > 5000) cache.clear();
    cache.set(text, c);
  }
  return c;
}

// ---------------------------------------------------------------- render

/** Evaluate at a node: errors get the node's position in the text. */
function value(e: Expr, scope: Scope, text: string, at: number): unknown {
  try {
    return evalIn(e, scope);
  } catch (err) {
    if (err instanceof UndefinedVarError) {
      const { line, col } = lineCol(text, at);
      throw new TemplateError(`undefined variable "${err.varName}"`, line, col, err.varName);
    }
    if (err instanceof TemplateError) throw err;
    throw asTemplateError(err, text);
  }
}

function strict(v: unknown, text: string, at: number): unknown {
  // An undefined value, or one inside a list (a map(attribute=) over items lacking it), is an error here.
  const u = v instanceof Undef ? v : Array.isArray(v) ? v.find((x) => x instanceof Undef) : undefined;
  if (u instanceof Undef) {
    const { line, col } = lineCol(text, at);
    throw new TemplateError(`undefined variable "${u.path}"`, line, col, u.path);
  }
  return v;
}

function iterable(v: unknown, text: string, at: number): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isPlainObject(v)) return Object.keys(v);
  const { line, col } = lineCol(text, at);
  throw new TemplateError(`cannot loop over ${typeName(v)}`, line, col);
}

function assign(scope: Scope, targets: string[], v: unknown, text: string, at: number): Scope {
  const vars = { ...scope.vars };
  if (targets.length === 1) vars[targets[0]] = v;
  else {
    const parts = Array.isArray(v) ? v : undefined;
    if (!parts || parts.length !== targets.length) {
      const { line, col } = lineCol(text, at);
      throw new TemplateError(
        `cannot unpack ${Array.isArray(v) ? `${v.length} values` : 'a non-list'} into ${targets.join(', ')}`,
        line,
        col,
      );
    }
    targets.forEach((t, i) => (vars[t] = parts[i]));
  }
  return { vars, resolving: scope.resolving };
}

function renderNodes(nodes: Node[], scope: { current: Scope }, text: string): string {
  let out = '';
  for (const n of nodes) {
    switch (n.kind) {
      case 'text':
        out += n.text;
        break;
      case 'out': {
        const v = strict(value(n.expr, scope.current, text, n.at), text, n.at);
        out += v === null ? '' : toStr(v); // Ansible prints None as nothing
        break;
      }
      case 'if': {
        const hit = n.branches.find((b) => truthy(strict(value(b.cond, scope.current, text, b.at), text, b.at)));
        out += renderNodes(hit ? hit.body : n.otherwise, scope, text);
        break;
      }
      case 'for': {
        const all = iterable(strict(value(n.iter, scope.current, text, n.at), text, n.at), text, n.at);
        const items = n.filter
          ? all.filter((item) =>
              truthy(value(n.filter!, assign(scope.current, n.targets, item, text, n.at), text, n.at)),
            )
          : all;
        items.forEach((item, i) => {
          const inner = assign(scope.current, n.targets, item, text, n.at);
          inner.vars.loop = {
            index: i + 1,
            index0: i,
            revindex: items.length - i,
            revindex0: items.length - i - 1,
            first: i === 0,
            last: i === items.length - 1,
            length: items.length,
            previtem: i > 0 ? items[i - 1] : undefined,
            nextitem: i < items.length - 1 ? items[i + 1] : undefined,
          };
          // A set inside the loop stays inside this iteration, as in Jinja.
          out += renderNodes(n.body, { current: inner }, text);
        });
        if (!items.length) out += renderNodes(n.otherwise, scope, text);
        break;
      }
      case 'set':
        scope.current = assign(
          scope.current,
          n.targets,
          strict(value(n.value, scope.current, text, n.at), text, n.at),
          text,
          n.at,
        );
        break;
      case 'setblock':
        scope.current = assign(
          scope.current,
          [n.target],
          renderNodes(n.body, { current: scope.current }, text),
          text,
          0,
        );
        break;
    }
  }
  return out;
}

const hasTemplate = (text: string) => text.includes('{{') || text.includes('{%') || text.includes('{#');

// Filters whose result ansible-core 2.14 keeps as text (C.STRING_TYPE_FILTERS: NativeJinjaText).
const TEXT_FILTERS = new Set(['string', 'to_json', 'to_nice_json', 'to_yaml', 'to_nice_yaml', 'ppretty', 'json']);

/**
 * The type of a rendered playbook string, as ansible-core 2.14 gives it (Templar.template with
 * jinja2_native off): `{{ name }}` of a variable holding a number or boolean is that value (None too);
 * otherwise the result is text, read back as a Python literal when it starts with "[" or "{" or is
 * True/False (ansible_eval_concat) — so lists, dicts and booleans keep their type, numbers become text.
 * A lone `{{ x | to_json }}` (and the other text filters) stays text.
 */
function renderIn(text: string, scope: Scope): unknown {
  if (!hasTemplate(text)) return text;
  const c = compileTemplate(text);
  if (c.single !== undefined && Object.hasOwn(scope.vars, c.single)) {
    const raw = scope.vars[c.single];
    if (isNumber(raw) || typeof raw === 'boolean' || raw === null) return raw;
  }
  let out: string;
  if (c.whole) {
    const at = (c.nodes[0] as { at: number }).at;
    const v = strict(value(c.whole, scope, text, at), text, at);
    if (textFilter(c.whole)) return withNewlines(text, v === null ? '' : toStr(v));
    // literal_eval(repr(x)) is x for a list or dict: skip the round trip.
    if (Array.isArray(v) || isPlainObject(v) || typeof v === 'boolean') return v;
    out = withNewlines(text, v === null ? '' : toStr(v));
  } else out = withNewlines(text, renderNodes(c.nodes, { current: scope }, text));
  return typed(out);
}

function textFilter(e: Expr): boolean {
  if (e.kind === 'filter') return TEXT_FILTERS.has(e.filter);
  return false;
}

// Variables holding templates are rendered where they are used (src/engine/template/expr.ts).
setTemplateResolver(renderIn);

/** The template lookup: a template file rendered, then typed as a playbook string is (convert_data). */
setLookupTemplateRenderer((text, vars) => typed(renderTemplateText(text, vars)));

function typed(out: string): unknown {
  if (out.startsWith('{') || out.startsWith('[') || out === 'True' || out === 'False') {
    const lit = literalEval(out);
    if (lit) return lit.value;
  }
  return out;
}

/**
 * Render a string of a playbook, role or inventory. Text without template syntax comes back
 * unchanged; a string that is exactly one `{{ expr }}` gives the value itself (a list stays a list).
 */
export function renderString(text: string, vars: Record<string, unknown>): unknown {
  return renderIn(text, scopeOf(vars));
}

/** Render a template file's text (`.j2`): always text. */
export function renderTemplateText(text: string, vars: Record<string, unknown>): string {
  if (!hasTemplate(text)) return text;
  return withNewlines(text, renderNodes(compileTemplate(text, 'file').nodes, { current: scopeOf(vars) }, text));
}

const trailingNewlines = (s: string) => /\n*$/.exec(s)![0].length;

/** ansible-core's preserve_trailing_newlines: the result ends with at least as many newlines as the source. */
function withNewlines(source: string, out: string): string {
  const missing = trailingNewlines(source) - trailingNewlines(out);
  return missing > 0 ? out + '\n'.repeat(missing) : out;
}

/** Render every string inside objects/arrays (keys are left alone); a value that renders to `omit` is left out. */
export function renderDeep<T>(value: T, vars: Record<string, unknown>): T {
  const scope = scopeOf(vars);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return renderIn(v, scope);
    if (Array.isArray(v)) return v.map(walk).filter((x) => x !== OMIT);
    if (isPlainObject(v) && !(OPAQUE in v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const r = walk(x);
        if (r !== OMIT)
          Object.defineProperty(out, k, { value: r, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return v;
  };
  return walk(value) as T;
}

/**
 * Root variable names a template needs (for pre-flight checks), leaving out names a `for` or `set`
 * binds and names used only under `is defined` or `| default`. Throws TemplateError on bad syntax.
 */
export function templateRootNames(text: string, kind: 'playbook' | 'file' = 'playbook'): string[] {
  if (!hasTemplate(text)) return [];
  const out: string[] = [];
  const add = (names: string[]) => names.forEach((n) => out.includes(n) || out.push(n));
  const visit = (nodes: Node[], bound: Set<string>) => {
    for (const n of nodes) {
      switch (n.kind) {
        case 'out':
          add(exprRootNames(n.expr, bound));
          break;
        case 'if':
          for (const b of n.branches) {
            add(exprRootNames(b.cond, bound));
            visit(b.body, bound);
          }
          visit(n.otherwise, bound);
          break;
        case 'for': {
          add(exprRootNames(n.iter, bound));
          const inner = new Set([...bound, ...n.targets, 'loop']);
          if (n.filter) add(exprRootNames(n.filter, inner));
          visit(n.body, inner);
          visit(n.otherwise, bound);
          break;
        }
        case 'set':
          add(exprRootNames(n.value, bound));
          n.targets.forEach((t) => bound.add(t));
          break;
        case 'setblock':
          visit(n.body, bound);
          bound.add(n.target);
          break;
      }
    }
  };
  visit(compileTemplate(text, kind).nodes, new Set());
  return out;
}
