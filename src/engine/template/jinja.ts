// Jinja templates as Ansible renders them: `{{ expr }}` (expressions of src/engine/template/expr.ts, the
// same engine as `when:`), `{% if %}`/`{% elif %}`/`{% else %}`, `{% for %}` (with `loop.*`, `else`
// and an `if` filter), `{% set %}`, `{% raw %}`, `{# comments #}` and whitespace control (`{%-`,
// `-%}`). As in Ansible: trim_blocks (a newline right after a block tag is dropped), no
// autoescaping, an undefined variable is an error, `None` prints as nothing, and a string that is
// exactly one `{{ expr }}` keeps the value's type. Task arguments, loops, variables and `.j2`
// template files all go through here.
import {
  Callable,
  deepEqual,
  ExprError,
  OPAQUE,
  Undef,
  UndefinedVarError,
  evalIn,
  exprRootNames,
  isNamespace,
  isNumber,
  isPlainObject,
  parseExprAt,
  parseCallHead,
  parseFilterHead,
  parseForHead,
  parseMacroHead,
  parseSetHead,
  parseWithHead,
  scopeOf,
  setTemplateResolver,
  toStr,
  truthy,
  tuple,
  typeName,
  unliteral,
  type Expr,
  type Scope,
} from './expr.js';
import { literalEval } from './pyliteral.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { findFile, setLookupTemplateRenderer } from './lookups.js';

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

type Param = { name: string; dflt?: Expr };
interface MacroDef {
  name: string;
  params: Param[];
  body: Node[];
  /** The body uses `varargs` / `kwargs`: extra arguments land there instead of being an error. */
  varargs: boolean;
  kwargs: boolean;
}
type Node =
  | { kind: 'text'; text: string }
  | ({ kind: 'macro'; at: number } & MacroDef)
  | { kind: 'callblock'; call: Extract<Expr, { kind: 'mcall' }>; caller: MacroDef; at: number }
  | { kind: 'filterblock'; filter: Expr; body: Node[]; at: number }
  | { kind: 'include'; names: Expr; ignoreMissing: boolean; context: boolean; at: number }
  | { kind: 'import'; file: Expr; as?: string; names?: [string, string][]; context: boolean; at: number }
  | { kind: 'out'; expr: Expr; at: number }
  | { kind: 'if'; branches: { cond: Expr; body: Node[]; at: number }[]; otherwise: Node[] }
  | { kind: 'for'; targets: string[]; iter: Expr; filter?: Expr; body: Node[]; otherwise: Node[]; at: number }
  | { kind: 'set'; targets: string[]; value: Expr; at: number }
  | { kind: 'setattr'; target: string; attr: string; value: Expr; at: number }
  | { kind: 'setblock'; target: string; body: Node[]; filter?: Expr; at: number }
  | { kind: 'with'; assigns: [string, Expr][]; body: Node[] }
  | BlockNode
  | { kind: 'extends'; parent: Expr; at: number };
type BlockNode = { kind: 'block'; name: string; scoped: boolean; required: boolean; body: Node[]; at: number };

interface Compiled {
  nodes: Node[];
  /** Set when the whole text is one `{{ expr }}`. */
  whole?: Expr;
  /** Set when the text is exactly `{{ name }}` (ansible-core's SINGLE_VAR shortcut). */
  single?: string;
  /** The template has `{% block %}`s or `{% extends %}`: rendered by renderLayout. */
  layout: boolean;
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

/** The body of a `{% filter %}` block, as the filters' subject. */
const FILTER_BODY = '__filter_body__';

/**
 * Names the template can call: its macros, what it imports, and `caller` (the parser must know them,
 * as any other call is one of the functions relay-play has).
 */
function callableNames(text: string): Set<string> {
  const out = new Set(['caller']);
  if (/\{%[-+]?\s*block\s/.test(text)) out.add('super').add('self');
  if (/\bloop\.(cycle|changed)\s*\(/.test(text)) out.add('loop');
  for (const m of text.matchAll(/\{%[-+]?\s*macro\s+([A-Za-z_]\w*)/g)) out.add(m[1]);
  for (const m of text.matchAll(/\{%[-+]?\s*import\s[\s\S]*?\sas\s+([A-Za-z_]\w*)/g)) out.add(m[1]);
  for (const m of text.matchAll(/\{%[-+]?\s*from\s[\s\S]*?\simport\s+([^%]*?)\s*[-+]?%\}/g))
    for (const part of m[1].replace(/\s+(with|without)\s+context$/, '').split(','))
      out.add(
        part
          .trim()
          .split(/\s+as\s+/)
          .pop()!,
      );
  return out;
}

const EXTENSIONS: Record<string, string> = {
  do: 'jinja2.ext.do',
  break: 'jinja2.ext.loopcontrols',
  continue: 'jinja2.ext.loopcontrols',
};

const CONTEXT = /\s+(with|without)\s+context\s*$/;

function parse(text: string, rawStrings: boolean): Compiled {
  // Jinja drops one trailing newline of the source (keep_trailing_newline off); Ansible puts back
  // as many as the source ended with (preserve_trailing_newlines, see withNewlines).
  const tags = lex(text.replace(/(\r\n|\r|\n)$/, ''));
  let pos = 0;
  const callables = /\{%[-+]?\s*(macro|import|from|call|block)\s|\bloop\.(cycle|changed)\s*\(/.test(text)
    ? callableNames(text)
    : undefined;
  const blockNames = new Set<string>();
  let layout = false;
  const expr = (src: string, at: number, raw = false) => {
    try {
      return parseExprAt(src, at, { rawStrings: raw, callables });
    } catch (e) {
      throw asTemplateError(e, text);
    }
  };
  const head = <T>(fn: (src: string, at: number, c?: ReadonlySet<string>) => T, src: string, at: number): T => {
    try {
      return fn(src, at, callables);
    } catch (e) {
      throw asTemplateError(e, text);
    }
  };
  const macroDef = (name: string, params: Param[], nodes: Node[]): MacroDef => {
    const used = nodeRootNames(nodes, new Set(params.map((p) => p.name)));
    return { name, params, body: nodes, varargs: used.includes('varargs'), kwargs: used.includes('kwargs') };
  };
  /** `X [with|without] context`: the expression X and whether the context goes with it. */
  const withContext = (src: string, dflt: boolean): [string, boolean] => {
    const m = CONTEXT.exec(src);
    return m ? [src.slice(0, m.index), m[1] === 'with'] : [src, dflt];
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
          const b = body(['endfor', 'else'], { word: 'for', at: tag.open });
          const otherwise = b.stop!.word === 'else' ? body(['endfor'], { word: 'for', at: tag.open }).nodes : [];
          nodes.push({ kind: 'for', ...h, body: b.nodes, otherwise, at: tag.at });
          break;
        }
        case 'set': {
          // {% set x %}…{% endset %}, also with filters: {% set x | upper %}
          const blockForm = /^\s*([A-Za-z_]\w*)\s*(?:\|([\s\S]*))?$/.exec(rest);
          if (blockForm) {
            const bar = restAt + rest.indexOf('|') + 1;
            const filter =
              blockForm[2] === undefined
                ? undefined
                : head((src, at, c) => parseFilterHead(src, at, FILTER_BODY, c), blockForm[2], bar);
            const b = body(['endset'], { word: 'set', at: tag.open });
            nodes.push({ kind: 'setblock', target: blockForm[1], body: b.nodes, filter, at: tag.at });
            break;
          }
          // {% set ns.attr = value %}: a namespace()'s attribute
          const attr = /^\s*([A-Za-z_]\w*)\s*\.\s*([A-Za-z_]\w*)\s*=(?!=)/.exec(rest);
          if (attr) {
            const value = expr(rest.slice(attr[0].length), restAt + attr[0].length);
            nodes.push({ kind: 'setattr', target: attr[1], attr: attr[2], value, at: tag.at });
            break;
          }
          nodes.push({ kind: 'set', ...head(parseSetHead, rest, restAt), at: tag.at });
          break;
        }
        case 'with': {
          const assigns = head(parseWithHead, rest, restAt);
          nodes.push({ kind: 'with', assigns, body: body(['endwith'], { word: 'with', at: tag.open }).nodes });
          break;
        }
        case 'block': {
          const h = /^\s*([A-Za-z_]\w*)((?:\s+(?:scoped|required))*)\s*$/.exec(rest);
          if (!h) throw syntax(text, restAt, 'expected "{% block name %}"');
          if (blockNames.has(h[1])) throw syntax(text, tag.open, `block '${h[1]}' defined twice`);
          blockNames.add(h[1]);
          const b = body(['endblock'], { word: 'block', at: tag.open });
          const endName = b.stop!.rest.trim();
          if (endName && endName !== h[1])
            throw syntax(text, b.stop!.at, `expected token 'end of statement block', got '${endName}'`);
          const [scoped, required] = [/scoped/.test(h[2]), /required/.test(h[2])];
          nodes.push({ kind: 'block', name: h[1], scoped, required, body: b.nodes, at: tag.at });
          layout = true;
          break;
        }
        case 'extends':
          nodes.push({ kind: 'extends', parent: expr(rest, restAt), at: restAt });
          layout = true;
          break;
        case 'macro': {
          const h = head(parseMacroHead, rest, restAt);
          const b = body(['endmacro'], { word: 'macro', at: tag.open });
          nodes.push({ kind: 'macro', ...macroDef(h.name, h.params, b.nodes), at: tag.at });
          break;
        }
        case 'call': {
          const h = head(parseCallHead, rest, restAt);
          const b = body(['endcall'], { word: 'call', at: tag.open });
          const call = h.call as Extract<Expr, { kind: 'mcall' }>;
          nodes.push({ kind: 'callblock', call, caller: macroDef('caller', h.params, b.nodes), at: restAt });
          break;
        }
        case 'filter': {
          const filter = head((src, at, c) => parseFilterHead(src, at, FILTER_BODY, c), rest, restAt);
          const b = body(['endfilter'], { word: 'filter', at: tag.open });
          nodes.push({ kind: 'filterblock', filter, body: b.nodes, at: restAt });
          break;
        }
        case 'include': {
          const [src0, context] = withContext(rest, true);
          const missing = /\s+ignore\s+missing\s*$/.exec(src0);
          const src = missing ? src0.slice(0, missing.index) : src0;
          const at = restAt + /^\s*/.exec(rest)![0].length;
          nodes.push({ kind: 'include', names: expr(src, restAt), ignoreMissing: !!missing, context, at });
          break;
        }
        case 'import': {
          const [src, context] = withContext(rest, false);
          const m = /^([\s\S]*)\sas\s+([A-Za-z_]\w*)\s*$/.exec(src);
          if (!m) throw syntax(text, restAt, 'expected "{% import \'file\' as name %}"');
          nodes.push({ kind: 'import', file: expr(m[1], restAt), as: m[2], context, at: restAt });
          break;
        }
        case 'from': {
          const [src, context] = withContext(rest, false);
          const m = /^([\s\S]*?)\simport\s+([\s\S]*)$/.exec(src);
          const names = m?.[2].split(',').map((part) => {
            const n = /^\s*([A-Za-z_]\w*)(?:\s+as\s+([A-Za-z_]\w*))?\s*$/.exec(part);
            if (!n) throw syntax(text, restAt, `expected a name to import, found "${part.trim()}"`);
            return [n[1], n[2] ?? n[1]] as [string, string];
          });
          if (!m || !names) throw syntax(text, restAt, 'expected "{% from \'file\' import name %}"');
          nodes.push({ kind: 'import', file: expr(m[1], restAt), names, context, at: restAt });
          break;
        }
        default: {
          const closers = ['endif', 'endfor', 'elif', 'else', 'endset', 'endmacro', 'endcall', 'endfilter'];
          if ([...closers, 'endwith', 'endblock'].includes(word))
            throw syntax(text, tag.open, `"{% ${word} %}" without a matching opening tag`);
          // Jinja's words. ansible-core 2.14 loads no Jinja extension (DEFAULT_JINJA2_EXTENSIONS is empty),
          // so `do`, `break` and `continue` are unknown there too.
          const looking = opener
            ? ` Jinja was looking for the following tags: ${stops.map((w) => `'${w}'`).join(' or ')}.` +
              ` The innermost block that needs to be closed is '${opener.word}'.`
            : '';
          const ext = EXTENSIONS[word];
          const hint = ext ? ` (Ansible enables no Jinja extension: "${word}" needs ${ext})` : '';
          throw syntax(text, tag.open, `Encountered unknown tag '${word}'.${looking}${hint}`);
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
  return { nodes, whole, single, layout };
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
  if (v instanceof Undef && v.silent) return '';
  if (u instanceof Undef && !u.silent) {
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
    if (blockCall && n.kind !== 'text' && n.kind !== 'out') blockCall.open = false;
    switch (n.kind) {
      case 'text':
        if (blockCall && !blockCall.open) [blockCall.items, blockCall.open] = [blockCall.items + 1, true];
        out += n.text;
        break;
      case 'out': {
        const v = strict(value(n.expr, scope.current, text, n.at), text, n.at);
        if (blockCall) blockItem(blockCall, n.expr, v, text, n.at);
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
        let last: unknown[] | undefined; // what loop.changed() was last given
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
            depth: 1, // `recursive` loops are not supported: always the first level
            depth0: 0,
            previtem: i > 0 ? items[i - 1] : new Undef('loop.previtem'),
            nextitem: i < items.length - 1 ? items[i + 1] : new Undef('loop.nextitem'),
            cycle: new Callable('cycle', (args) => {
              if (!args.length) throw located(text, n.at, 'no items for cycling given');
              return args[i % args.length];
            }),
            changed: new Callable('changed', (args) => {
              const changed = last === undefined || !deepEqual(last, args);
              last = args;
              return changed;
            }),
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
      case 'setblock': {
        let v: unknown = renderNodes(n.body, { current: scope.current }, text);
        if (n.filter) v = filtered(n.filter, v as string, scope.current, text, n.at);
        scope.current = assign(scope.current, [n.target], v, text, n.at);
        break;
      }
      case 'setattr': {
        const ns = strict(
          value({ kind: 'name', name: n.target, col: n.at + 1 }, scope.current, text, n.at),
          text,
          n.at,
        );
        if (!isNamespace(ns)) throw located(text, n.at, 'cannot assign attribute on non-namespace object');
        ns[n.attr] = strict(value(n.value, scope.current, text, n.at), text, n.at);
        break;
      }
      case 'with': {
        // The values are taken where the with stands; what is set inside stays inside.
        const values = n.assigns.map(([, e]) => strict(value(e, scope.current, text, e.col - 1), text, e.col - 1));
        const vars = { ...scope.current.vars };
        n.assigns.forEach(([k], i) => (vars[k] = values[i]));
        out += renderNodes(n.body, { current: { vars, resolving: scope.current.resolving } }, text);
        break;
      }
      case 'block': {
        const chain = layout?.blocks.get(n.name) ?? [{ node: n, text }];
        out += renderBlock(n.name, chain, 0, n.scoped || !layout ? scope.current : layout.root.current);
        break;
      }
      case 'extends':
        throw located(text, n.at, '"{% extends %}" is supported at the top level of a template only');
      case 'macro': {
        // A macro sees the variables of where it is defined as they are when it is called.
        const m = new Callable(n.name, (args, kwargs) => callMacro(n, scope, args, kwargs, text));
        scope.current = assign(scope.current, [n.name], m, text, n.at);
        break;
      }
      case 'callblock': {
        const fn = strict(value(n.call.callee, scope.current, text, n.at), text, n.at);
        if (!(fn instanceof Callable)) throw located(text, n.at, `"{% call %}" of something that is not a macro`);
        const args = n.call.args.map((a) => strict(value(a, scope.current, text, n.at), text, n.at));
        const kwargs: Record<string, unknown> = {};
        for (const [k, a] of n.call.kwargs) kwargs[k] = strict(value(a, scope.current, text, n.at), text, n.at);
        kwargs.caller = new Callable('caller', (a, kw) => callMacro(n.caller, scope, a, kw, text));
        const v = strict(
          guarded(() => fn.call(args, kwargs), text, n.at),
          text,
          n.at,
        );
        out += v === null ? '' : toStr(v);
        break;
      }
      case 'filterblock':
        out += toStr(
          filtered(n.filter, renderNodes(n.body, { current: scope.current }, text), scope.current, text, n.at),
        );
        break;
      case 'include': {
        const names = strict(value(n.names, scope.current, text, n.at), text, n.at);
        const found = findTemplate(names, scope.current, text, n.at, n.ignoreMissing);
        if (!found) break;
        const inner = n.context ? scope.current : scopeOf({});
        out += fileScoped(found.file, () => renderRoot(found, { current: inner }));
        break;
      }
      case 'import': {
        const file = strict(value(n.file, scope.current, text, n.at), text, n.at);
        const found = findTemplate(file, scope.current, text, n.at, false)!;
        const holder = { current: n.context ? scope.current : scopeOf({}) };
        fileScoped(found.file, () => renderRoot(found, holder));
        // What a template exports: its top-level macros and variables.
        const exported: Record<string, unknown> = {};
        for (const x of found.nodes) {
          const names =
            x.kind === 'macro' ? [x.name] : x.kind === 'set' ? x.targets : x.kind === 'setblock' ? [x.target] : [];
          for (const k of names) if (!k.startsWith('_')) exported[k] = holder.current.vars[k];
        }
        if (n.as !== undefined) {
          scope.current = assign(scope.current, [n.as], exported, text, n.at);
          break;
        }
        for (const [name, as] of n.names ?? []) {
          if (!Object.hasOwn(exported, name))
            throw located(text, n.at, `the template ${toStr(file)} does not export the requested name '${name}'`);
          scope.current = assign(scope.current, [as], exported[name], text, n.at);
        }
        break;
      }
    }
  }
  return out;
}

/** A `{% filter %}` block's or `{% set x | f %}`'s filters applied to the text of its body. */
function filtered(filter: Expr, body: string, scope: Scope, text: string, at: number): unknown {
  const inner = { vars: { ...scope.vars, [FILTER_BODY]: body }, resolving: scope.resolving };
  return strict(value(filter, inner, text, at), text, at);
}

// ---------------------------------------------------------------- template inheritance

interface BlockRef {
  node: BlockNode;
  text: string;
  file?: string;
}
/** A template being rendered with its blocks: each name's definitions, the most derived first. */
interface Layout {
  blocks: Map<string, BlockRef[]>;
  /** The template's own scope (its top-level sets), which a block that is not `scoped` sees. */
  root: { current: Scope };
}
let layout: Layout | undefined;

function collectBlocks(into: Layout, nodes: Node[], text: string, file?: string): void {
  for (const n of nodes) {
    if (n.kind === 'block') {
      const refs = into.blocks.get(n.name) ?? [];
      refs.push({ node: n, text, file });
      into.blocks.set(n.name, refs);
    }
    for (const inner of childLists(n)) collectBlocks(into, inner, text, file);
  }
}

function childLists(n: Node): Node[][] {
  switch (n.kind) {
    case 'if':
      return [...n.branches.map((b) => b.body), n.otherwise];
    case 'for':
      return [n.body, n.otherwise];
    case 'block':
    case 'with':
    case 'setblock':
    case 'filterblock':
    case 'macro':
      return [n.body];
    case 'callblock':
      return [n.caller.body];
    default:
      return [];
  }
}

/**
 * A block called as `super()` or `self.name()` is joined by Jinja's own "".join, not Ansible's concat:
 * in ansible-core 2.14 an output there that is not text (a number, a boolean, a list, ...) fails with
 * Python's TypeError, unless Jinja folded it into text when compiling (literals, operators on them).
 */
let blockCall: { items: number; open: boolean } | undefined;

function blockItem(run: { items: number; open: boolean }, e: Expr, v: unknown, text: string, at: number): void {
  if (constant(e)) {
    if (!run.open) [run.items, run.open] = [run.items + 1, true];
    return;
  }
  const index = run.items++;
  run.open = false;
  if (v !== null && typeof v !== 'string')
    throw located(text, at, `sequence item ${index}: expected str instance, ${typeName(v)} found`);
}

/** Whether Jinja computes `e` when compiling: nothing in it depends on a variable or a call. */
function constant(e: Expr): boolean {
  if (e.kind === 'name' || e.kind === 'call' || e.kind === 'mcall') return false;
  const inner: Expr[] = [];
  const visit = (x: unknown): void => {
    if (isExpr(x)) inner.push(x);
    else if (Array.isArray(x)) x.forEach(visit);
    else if (isPlainObject(x)) Object.values(x).forEach(visit);
  };
  Object.values(e).forEach(visit);
  return inner.every(constant);
}
const isExpr = (x: unknown): x is Expr => isPlainObject(x) && typeof x.kind === 'string' && typeof x.col === 'number';

/** The block `name` as `chain[i]` defines it; its `super()` is `chain[i + 1]`. */
function blockCalled(name: string, chain: BlockRef[], i: number, base: Scope): string {
  const before = blockCall;
  blockCall = { items: 0, open: false };
  try {
    return renderBlock(name, chain, i, base);
  } finally {
    blockCall = before;
  }
}

function renderBlock(name: string, chain: BlockRef[], i: number, base: Scope): string {
  const ref = chain[i];
  if (i === 0 && ref.node.required) throw new TemplateError(`Required block '${name}' not found`);
  const parent = new Callable('super', () => {
    if (i + 1 >= chain.length) throw new TemplateError(`there is no parent block called '${name}'.`);
    return blockCalled(name, chain, i + 1, base);
  });
  const scope = { vars: { ...base.vars, super: parent }, resolving: base.resolving };
  const render = () => renderNodes(ref.node.body, { current: scope }, ref.text);
  return ref.file === undefined ? render() : fileScoped(ref.file, render);
}

// What a template that extends another still runs after its `{% extends %}` (Jinja prints nothing more).
const AFTER_EXTENDS = new Set<Node['kind']>(['set', 'setattr', 'setblock', 'macro', 'import']);

/**
 * A whole template: with `{% extends %}`, the parent renders with the child's blocks in place of its
 * own (`super()` the one it replaces), and sees the child's top-level sets, as Jinja renders it.
 */
function renderRoot(t: { nodes: Node[]; text: string; file?: string; layout: boolean }, holder: { current: Scope }) {
  if (!t.layout) return renderNodes(t.nodes, holder, t.text);
  const before = layout;
  const here: Layout = { blocks: new Map(), root: holder };
  layout = here;
  try {
    collectBlocks(here, t.nodes, t.text, t.file);
    const self: Record<string, unknown> = {};
    for (const name of here.blocks.keys())
      self[name] = new Callable(name, () => blockCalled(name, here.blocks.get(name)!, 0, holder.current));
    holder.current = assign(holder.current, ['self'], self, t.text, 0);
    const run = (cur: typeof t): string => {
      let out = '';
      let parent: ReturnType<typeof findTemplate>;
      for (const n of cur.nodes) {
        if (n.kind === 'extends') {
          if (parent) throw located(cur.text, n.at, 'extended multiple times');
          const name = strict(value(n.parent, holder.current, cur.text, n.at), cur.text, n.at);
          parent = findTemplate(name, holder.current, cur.text, n.at, false)!;
          continue;
        }
        if (parent && !AFTER_EXTENDS.has(n.kind)) continue;
        const s = renderNodes([n], holder, cur.text);
        if (!parent) out += s;
      }
      if (!parent) return out;
      const p = parent;
      collectBlocks(here, p.nodes, p.text, p.file);
      for (const name of here.blocks.keys())
        self[name] ??= new Callable(name, () => blockCalled(name, here.blocks.get(name)!, 0, holder.current));
      return out + fileScoped(p.file, () => run(p));
    };
    return run(t);
  } finally {
    layout = before;
  }
}

function located(text: string, at: number, message: string): TemplateError {
  const { line, col } = lineCol(text, at);
  return new TemplateError(message, line, col);
}

/** Run `fn` (a macro's body, evaluated at a call): errors keep their place, others get this one. */
function guarded<T>(fn: () => T, text: string, at: number): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TemplateError) throw e;
    throw asTemplateError(e instanceof ExprError ? new ExprError(e.message, at + 1) : e, text);
  }
}

/** A macro called: its parameters bound as Jinja binds them, its body rendered to text. */
function callMacro(
  m: MacroDef,
  where: { current: Scope },
  args: unknown[],
  kwargs: Record<string, unknown>,
  text: string,
): string {
  const vars: Record<string, unknown> = { ...where.current.vars };
  const scope = { vars, resolving: where.current.resolving };
  const fail = (msg: string) => new TemplateError(msg);
  if (args.length > m.params.length && !m.varargs)
    throw fail(`macro '${m.name}' takes not more than ${m.params.length} argument(s)`);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kwargs)) {
    if (k === 'caller') vars.caller = v;
    else if (m.params.some((p) => p.name === k)) continue;
    else if (m.kwargs) extra[k] = v;
    else throw fail(`macro '${m.name}' takes no keyword argument '${k}'`);
  }
  m.params.forEach((p, i) => {
    if (i < args.length) {
      if (Object.hasOwn(kwargs, p.name)) throw fail(`macro '${m.name}' got multiple values for argument '${p.name}'`);
      vars[p.name] = args[i];
    } else if (Object.hasOwn(kwargs, p.name)) vars[p.name] = kwargs[p.name];
    else if (p.dflt) vars[p.name] = evalIn(p.dflt, scope);
    else vars[p.name] = new Undef(`parameter '${p.name}' was not provided`);
  });
  if (m.varargs) vars.varargs = tuple(args.slice(m.params.length));
  if (m.kwargs) vars.kwargs = extra;
  const before = blockCall;
  blockCall = undefined; // a macro's output is joined by Ansible's concat
  try {
    return renderNodes(m.body, { current: scope }, text);
  } finally {
    blockCall = before;
  }
}

/** The directory of the template file being rendered: `{% include %}` looks there last, as Ansible's. */
let templateDir: string | undefined;

function fileScoped<T>(file: string, fn: () => T): T {
  const before = templateDir;
  templateDir = dirname(file);
  try {
    return fn();
  } finally {
    templateDir = before;
  }
}

/**
 * The template `names` (one, or the first of a list that is there) in Ansible's search path for the
 * template module: the role's and the playbook's `templates/` and themselves, then the including
 * template's own directory.
 */
function findTemplate(
  names: unknown,
  scope: Scope,
  text: string,
  at: number,
  ignoreMissing: boolean,
): { file: string; text: string; nodes: Node[]; layout: boolean } | undefined {
  const list = (Array.isArray(names) ? names : [names]).map(toStr);
  for (const name of list) {
    const file =
      findFile({ vars: scope.vars, variable: () => undefined }, 'templates', name) ??
      (templateDir === undefined || isAbsolute(name)
        ? undefined
        : [join(templateDir, 'templates', name), join(templateDir, name)].find((f) => existsSync(f)));
    if (file) {
      const body = readFileSync(file, 'utf8');
      const c = compileTemplate(body, 'file');
      return { file, text: body, nodes: c.nodes, layout: c.layout };
    }
  }
  if (ignoreMissing) return undefined;
  throw located(
    text,
    at,
    list.length > 1 ? `none of the templates given were found: ${list.join(', ')}` : `template not found: ${list[0]}`,
  );
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
    // literal_eval(repr(x)) is x for a list or dict (skip the round trip), unless repr wrote something
    // that is no literal (a date's `datetime.date(2001, 12, 14)`): then it is that text.
    if (typeof v === 'boolean' || ((Array.isArray(v) || isPlainObject(v)) && !unliteral(v))) return v;
    out = withNewlines(text, v === null ? '' : toStr(v));
  } else out = withNewlines(text, renderRoot({ ...c, text }, { current: scope }));
  return typed(out);
}

function textFilter(e: Expr): boolean {
  if (e.kind === 'filter') return TEXT_FILTERS.has(e.filter);
  return false;
}

// Variables holding templates are rendered where they are used (src/engine/template/expr.ts).
setTemplateResolver(renderIn);

/** The template lookup: a template file rendered, then typed as a playbook string is (convert_data). */
setLookupTemplateRenderer((text, vars, file) => typed(renderTemplateText(text, vars, file)));

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

/** Render a template file's text (`.j2`; `file`, where it is, for its includes): always text. */
export function renderTemplateText(text: string, vars: Record<string, unknown>, file?: string): string {
  if (!hasTemplate(text)) return text;
  const render = () => renderRoot({ ...compileTemplate(text, 'file'), text, file }, { current: scopeOf(vars) });
  return withNewlines(text, file === undefined ? render() : fileScoped(file, render));
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
 * Root variable names a template needs (for pre-flight checks), leaving out names a `for`, `set`,
 * `macro` or import binds and names used only under `is defined` or `| default`. Throws TemplateError on bad syntax.
 */
export function templateRootNames(text: string, kind: 'playbook' | 'file' = 'playbook'): string[] {
  if (!hasTemplate(text)) return [];
  const c = compileTemplate(text, kind);
  return nodeRootNames(c.nodes, new Set(c.layout ? ['self'] : []));
}

function nodeRootNames(nodes: Node[], bound0: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const add = (names: string[]) => names.forEach((n) => out.includes(n) || out.push(n));
  const macro = (m: MacroDef, bound: Set<string>) => {
    const inner = new Set([...bound, 'varargs', 'kwargs', 'caller']);
    for (const p of m.params) {
      if (p.dflt) add(exprRootNames(p.dflt, inner));
      inner.add(p.name);
    }
    visit(m.body, inner);
  };
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
          if (n.filter) add(exprRootNames(n.filter, new Set([...bound, FILTER_BODY])));
          bound.add(n.target);
          break;
        case 'setattr':
          if (!bound.has(n.target)) add([n.target]);
          add(exprRootNames(n.value, bound));
          break;
        case 'with':
          n.assigns.forEach(([, e]) => add(exprRootNames(e, bound)));
          visit(n.body, new Set([...bound, ...n.assigns.map(([k]) => k)]));
          break;
        case 'block':
          visit(n.body, new Set([...bound, 'super', 'self']));
          break;
        case 'extends':
          add(exprRootNames(n.parent, bound));
          break;
        case 'macro':
          bound.add(n.name);
          macro(n, bound);
          break;
        case 'callblock':
          add(exprRootNames(n.call, bound));
          macro(n.caller, bound);
          break;
        case 'filterblock':
          visit(n.body, bound);
          add(exprRootNames(n.filter, new Set([...bound, FILTER_BODY])));
          break;
        case 'include':
          add(exprRootNames(n.names, bound));
          break;
        case 'import':
          add(exprRootNames(n.file, bound));
          if (n.as !== undefined) bound.add(n.as);
          n.names?.forEach(([, as]) => bound.add(as));
          break;
      }
    }
  };
  visit(nodes, new Set(bound0));
  return out;
}
