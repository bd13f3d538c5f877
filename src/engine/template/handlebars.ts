// Role templates written for handlebars (`templates/*.hbs`): own instance, strict, no HTML escaping.
// Everything else in playbooks, roles and inventories is Jinja (src/engine/template/jinja.ts).
import Handlebars from 'handlebars';
import { deepEqual, truthy } from './expr.js';

export class TemplateError extends Error {
  constructor(
    message: string,
    /** Path of the undefined variable (e.g. "foo" or "foo.bar") when that is what went wrong. */
    readonly undefinedName?: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

type AST = hbs.AST.Program;
type Options = Handlebars.HelperOptions & { ids?: unknown[]; data?: { root?: unknown } };

const hb = Handlebars.create();
const COMPILE_OPTS = { strict: true, noEscape: true, trackIds: true } as CompileOptions;

// ---------------------------------------------------------------- helpers

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Split handlebars helper arguments into (positional args, options). */
function split(args: unknown[]): [unknown[], Options] {
  return [args.slice(0, -1), args[args.length - 1] as Options];
}

/** Name of the i-th argument as written in the template (needs trackIds), for error messages. */
function argName(opts: Options, i: number): string {
  const id = opts.ids?.[i];
  return typeof id === 'string' ? id : `argument ${i + 1}`;
}

function required(helper: string, args: unknown[], opts: Options, i: number): unknown {
  const v = args[i];
  if (v === undefined) {
    const name = argName(opts, i);
    throw new TemplateError(
      `undefined variable "${name}" (passed to ${helper})`,
      opts.ids?.[i] === undefined ? undefined : name,
    );
  }
  return v;
}

function getOwn(container: unknown, key: string): { found: boolean; value?: unknown } {
  if (container instanceof Map)
    return container.has(key) ? { found: true, value: container.get(key) } : { found: false };
  if (isPlainObject(container) && Object.hasOwn(container, key)) return { found: true, value: container[key] };
  return { found: false };
}

const HELPERS: Record<string, (...args: unknown[]) => unknown> = {
  /** {{default x "fallback"}}: x unless it is undefined or null. */
  default(...all) {
    const [args] = split(all);
    return args[0] === undefined || args[0] === null ? args[1] : args[0];
  },
  eq(...all) {
    const [args] = split(all);
    return deepEqual(args[0], args[1]);
  },
  ne(...all) {
    const [args] = split(all);
    return !deepEqual(args[0], args[1]);
  },
  and(...all) {
    const [args] = split(all);
    return args.every(truthy);
  },
  or(...all) {
    const [args] = split(all);
    return args.some(truthy);
  },
  not(...all) {
    const [args] = split(all);
    return !truthy(args[0]);
  },
  /** {{join list ","}} (separator defaults to ","). */
  join(...all) {
    const [args, opts] = split(all);
    const list = required('join', args, opts, 0);
    if (!Array.isArray(list)) throw new TemplateError(`join needs a list, got ${typeof list} (${argName(opts, 0)})`);
    const sep = args[1] === undefined ? ',' : String(args[1]);
    return list.map((x) => (typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x))).join(sep);
  },
  /** {{json x}} or {{json x 2}} (indentation). */
  json(...all) {
    const [args, opts] = split(all);
    const v = required('json', args, opts, 0);
    return JSON.stringify(v, null, typeof args[1] === 'number' ? args[1] : undefined);
  },
  lower(...all) {
    const [args, opts] = split(all);
    return String(required('lower', args, opts, 0)).toLowerCase();
  },
  upper(...all) {
    const [args, opts] = split(all);
    return String(required('upper', args, opts, 0)).toUpperCase();
  },
  /** {{indent text 4}}: indent every line but the first by n spaces (blank lines stay empty), like Jinja's indent. */
  indent(...all) {
    const [args, opts] = split(all);
    const text = String(required('indent', args, opts, 0));
    const n = args[1] === undefined ? 4 : Number(args[1]);
    if (!Number.isInteger(n) || n < 0)
      throw new TemplateError(`indent needs a width in spaces, got ${String(args[1])}`);
    const pad = ' '.repeat(n);
    return text
      .split('\n')
      .map((line, i) => (i === 0 || line === '' ? line : pad + line))
      .join('\n');
  },
  /** {{b64decode x}}: text of base64 data (e.g. a slurp result's content). */
  b64decode(...all) {
    const [args, opts] = split(all);
    return Buffer.from(String(required('b64decode', args, opts, 0)), 'base64').toString('utf8');
  },
  /** {{hostvar "rpi1" "tunnel_port"}} or {{hostvar item "tunnel_port"}}: hostvars[host][name] from the root context. */
  hostvar(...all) {
    const [args, opts] = split(all);
    const host = required('hostvar', args, opts, 0);
    const name = required('hostvar', args, opts, 1);
    if (typeof host !== 'string' || typeof name !== 'string') {
      throw new TemplateError('hostvar needs a host name and a variable name, e.g. {{hostvar "rpi1" "tunnel_port"}}');
    }
    const root = getOwn(opts.data?.root, 'hostvars');
    if (!root.found) throw new TemplateError('hostvar: "hostvars" is not available here', 'hostvars');
    const h = getOwn(root.value, host);
    if (!h.found) throw new TemplateError(`hostvar: no host "${host}" in hostvars`, `hostvars.${host}`);
    const v = getOwn(h.value, name);
    if (!v.found || v.value === undefined) {
      throw new TemplateError(`hostvar: host "${host}" has no variable "${name}"`, `hostvars.${host}.${name}`);
    }
    return v.value;
  },
};

for (const [name, fn] of Object.entries(HELPERS)) hb.registerHelper(name, fn as Handlebars.HelperDelegate);

/** Receives the single mustache's value in whole-value templates. */
let captured: { value: unknown } | undefined;
hb.registerHelper('__capture', (value: unknown) => {
  captured = { value };
  return '';
});

function isHelper(name: string): boolean {
  return Object.hasOwn(hb.helpers, name);
}

// ---------------------------------------------------------------- outputs as text

// With noEscape, handlebars joins a template's outputs with a bare `+`, so `{{port}}{{port}}` gives 44
// (numbers added, not concatenated). So before compiling, every statement that outputs a value (a mustache,
// `{{{triple}}}` included, or a block) is put inside a block of this helper, which renders the statement
// and returns its output as a string: `{{a}}{{b}}` compiles as
// `{{#__text this}}{{a}}{{/__text}}{{#__text this}}{{b}}{{/__text}}`. This uses only handlebars' documented
// parse / AST / Visitor / compile(ast) API (its docs/compiler-api.md). The statement itself is untouched,
// and the block keeps its context (passed as `this`, so a null context stays null), @data, ../ and block
// params: same lookups, same strict-mode errors at the same locations.
const TEXT_HELPER = '__text';
hb.registerHelper(TEXT_HELPER, (context: unknown, options: Handlebars.HelperOptions) => String(options.fn(context)));

/** Puts each output statement of every program (blocks' bodies and else branches too) inside a TEXT_HELPER block. */
class TextOutputs extends Handlebars.Visitor {
  override Program(program: hbs.AST.Program): void {
    super.Program(program); // nested programs first; the blocks added below are not visited again
    program.body = program.body.map((s) =>
      s.type === 'MustacheStatement' || s.type === 'BlockStatement' ? asText(s as OutputStatement) : s,
    );
  }
}

type OutputStatement = hbs.AST.MustacheStatement | hbs.AST.BlockStatement;

function asText(statement: OutputStatement): hbs.AST.BlockStatement {
  const loc = statement.loc;
  const path = (parts: string[], original: string): hbs.AST.PathExpression => ({
    type: 'PathExpression',
    data: false,
    depth: 0,
    parts,
    original,
    loc,
  });
  // No whitespace control flags: parse() already applied the statement's own to the text around it.
  const noStrip = { open: false, close: false };
  return {
    type: 'BlockStatement',
    path: path([TEXT_HELPER], TEXT_HELPER),
    params: [path([], 'this')],
    // As the parser leaves them for `{{#__text this}}…{{/__text}}`: no hash, no block params, no else.
    hash: undefined as unknown as hbs.AST.Hash,
    program: { type: 'Program', body: [statement], blockParams: undefined as unknown as string[], loc },
    inverse: undefined as unknown as hbs.AST.Program,
    openStrip: noStrip,
    inverseStrip: noStrip,
    closeStrip: noStrip,
    loc,
  };
}

/**
 * Template function for `text` with every output a string. The tree is parsed here, as the rewrite changes
 * it in place. parse() has applied whitespace control (standalone lines, `~`) to the tree as written;
 * compile() runs it again on the tree it is given, so that second pass leaves standalone lines alone
 * (ignoreStandalone): in the rewritten tree, statements no longer sit where they were written.
 */
function compileText(text: string): Handlebars.TemplateDelegate {
  const ast = parse(text);
  new TextOutputs().accept(ast);
  return hb.compile(ast, { ...COMPILE_OPTS, ignoreStandalone: true, knownHelpers: { [TEXT_HELPER]: true } });
}

// ---------------------------------------------------------------- compile + cache

interface Compiled {
  render: Handlebars.TemplateDelegate;
  /** Set when the whole (trimmed) text is one mustache: renders via __capture to keep the raw value. */
  whole?: { render: Handlebars.TemplateDelegate; path?: hbs.AST.PathExpression };
}

const cache = new Map<string, Compiled>();

function parse(text: string): AST {
  try {
    return hb.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const jinja = /\{\{[^}]*\|/.test(text)
      ? ' — this is a handlebars (.hbs) template: Jinja filters work in .j2 templates'
      : '';
    throw new TemplateError(`template syntax error: ${msg.replace(/\s+/g, ' ').trim()}${jinja}`);
  }
}

function compile(text: string): Compiled {
  let c = cache.get(text);
  if (c) return c;
  const ast = parse(text); // syntax errors → TemplateError now rather than at first render
  c = { render: compileText(text) };
  // Only a template that is exactly one mustache keeps the value's type; with any text around it,
  // even whitespace ("{{ port }}\n"), the result is text, as in Ansible.
  const stmts = ast.body;
  const only =
    stmts.length === 1 && stmts[0].type === 'MustacheStatement' ? (stmts[0] as hbs.AST.MustacheStatement) : undefined;
  if (only && only.path.type === 'PathExpression') {
    const path = only.path as hbs.AST.PathExpression;
    const call =
      only.params.length > 0 ||
      (only.hash && only.hash.pairs.length > 0) ||
      (path.parts.length === 1 && !path.data && isHelper(path.parts[0]));
    const param = call
      ? ({
          type: 'SubExpression',
          path,
          params: only.params,
          hash: only.hash,
          loc: only.loc,
        } as unknown as hbs.AST.Expression)
      : path;
    const captureAst = {
      type: 'Program',
      body: [
        {
          type: 'MustacheStatement',
          path: {
            type: 'PathExpression',
            data: false,
            depth: 0,
            parts: ['__capture'],
            original: '__capture',
            loc: only.loc,
          },
          params: [param],
          hash: undefined,
          escaped: false,
          strip: { open: false, close: false },
          loc: only.loc,
        },
      ],
      strip: {},
      loc: ast.loc,
    };
    c.whole = { render: hb.compile(captureAst, COMPILE_OPTS), path: call ? undefined : path };
  }
  cache.set(text, c);
  return c;
}

// ---------------------------------------------------------------- error conversion

function* paths(node: unknown): Generator<hbs.AST.PathExpression> {
  if (Array.isArray(node)) {
    for (const n of node) yield* paths(n);
  } else if (node && typeof node === 'object') {
    const n = node as { type?: string };
    if (n.type === 'PathExpression') yield n as hbs.AST.PathExpression;
    for (const [k, v] of Object.entries(node)) if (k !== 'loc' && typeof v === 'object') yield* paths(v);
  }
}

function undefinedError(name: string): TemplateError {
  return new TemplateError(`undefined variable "${name}"`, name);
}

function convert(e: unknown, text: string): TemplateError {
  if (e instanceof TemplateError) return e;
  const err = e as Error & { lineNumber?: number; column?: number };
  const msg = String(err?.message ?? e);
  const ast = () => parse(text);
  let m = /^"(.*)" not defined in/.exec(msg);
  if (m) {
    const at = [...paths(ast())].find((p) => p.loc.start.line === err.lineNumber && p.loc.start.column === err.column);
    return undefinedError(at && !at.data ? at.original.replace(/^this\./, '') : m[1]);
  }
  m = /Cannot read properties of (?:undefined|null) \(reading '(.*)'\)/.exec(msg);
  if (m) {
    const key = m[1];
    const at = [...paths(ast())].find((p) => p.parts.indexOf(key) >= 1);
    return undefinedError(at ? at.original : key);
  }
  m = /Cannot use 'in' operator to search for '(.*)' in/.exec(msg);
  if (m) return undefinedError(m[1]);
  m = /^Missing helper: "(.*)"/.exec(msg);
  if (m)
    return new TemplateError(
      `unknown helper "${m[1]}" (available: ${Object.keys(HELPERS).join(', ')}, if, unless, each, with, lookup)`,
    );
  return new TemplateError(`template error: ${msg}`);
}

// ---------------------------------------------------------------- API

/**
 * Render `{{ }}` templates. Text without `{{` comes back unchanged. When the trimmed text is a single
 * mustache (`{{ path }}` or a helper call like `{{hostvar "rpi1" "port"}}`), the raw value is returned,
 * so lists, numbers and objects survive (a string value keeps the whitespace around it); otherwise a string.
 */
export function renderHandlebars(text: string, vars: Record<string, unknown>): string | unknown {
  if (!text.includes('{{')) return text;
  const c = compile(text);
  try {
    if (c.whole) {
      captured = undefined;
      c.whole.render(vars);
      const got = captured as { value: unknown } | undefined;
      captured = undefined;
      if (got === undefined) return c.render(vars); // not reached in practice: the capture helper always runs
      if (got.value === undefined) {
        if (c.whole.path) throw undefinedError(c.whole.path.original.replace(/^this\./, ''));
        return '';
      }
      return got.value;
    }
    return c.render(vars);
  } catch (e) {
    throw convert(e, text);
  }
}

/**
 * Root variable names a template references (for pre-flight checks): first segments of paths evaluated
 * against the root context. Skips `this`, `@data` (but `@root.x` counts as `x`), helper names, block params,
 * and paths relative to a block that changes context (`#each`/`#with` bodies).
 */
export function handlebarsRootNames(text: string): string[] {
  if (!text.includes('{{')) return [];
  const out: string[] = [];
  const add = (n: string) => {
    if (!out.includes(n)) out.push(n);
  };

  const visitPath = (p: hbs.AST.PathExpression, ctx: number, blockParams: string[]) => {
    if (p.data) {
      if (p.parts[0] === 'root' && p.parts.length > 1) add(p.parts[1]);
      return;
    }
    if (p.parts.length === 0) return; // this / .
    if (p.depth === 0 && blockParams.includes(p.parts[0])) return;
    if (ctx - p.depth > 0) return; // relative to an #each/#with context
    add(p.parts[0]);
  };

  const visitExpr = (e: hbs.AST.Expression | undefined, ctx: number, bp: string[]) => {
    if (!e) return;
    if (e.type === 'PathExpression') visitPath(e as hbs.AST.PathExpression, ctx, bp);
    else if (e.type === 'SubExpression') visitCall(e as hbs.AST.SubExpression, ctx, bp);
  };

  /** Mustache / sub-expression / block head: callee, params and hash values. */
  const visitCall = (
    node: { path: hbs.AST.PathExpression | hbs.AST.Literal; params: hbs.AST.Expression[]; hash?: hbs.AST.Hash },
    ctx: number,
    bp: string[],
  ) => {
    if (node.path.type === 'PathExpression') {
      // An unknown callee counts as a variable: rendering reports it as undefined too.
      const p = node.path as hbs.AST.PathExpression;
      const helper = p.parts.length === 1 && !p.data && p.depth === 0 && isHelper(p.parts[0]);
      if (!helper) visitPath(p, ctx, bp);
    }
    for (const param of node.params) visitExpr(param, ctx, bp);
    for (const pair of node.hash?.pairs ?? []) visitExpr(pair.value, ctx, bp);
  };

  const visitProgram = (prog: hbs.AST.Program | undefined, ctx: number, bp: string[]) => {
    if (!prog) return;
    for (const s of prog.body) {
      if (s.type === 'MustacheStatement') {
        visitCall(s as hbs.AST.MustacheStatement, ctx, bp);
      } else if (s.type === 'BlockStatement') {
        const b = s as hbs.AST.BlockStatement;
        visitCall(b, ctx, bp);
        const name = b.path.type === 'PathExpression' ? (b.path as hbs.AST.PathExpression).original : '';
        // #each/#with and a bare {{#obj}} section render their body in a new context; #if/#unless don't.
        const changes = name === 'each' || name === 'with' || !isHelper(name);
        const inner = [...bp, ...(b.program?.blockParams ?? [])];
        visitProgram(b.program, changes ? ctx + 1 : ctx, inner);
        visitProgram(b.inverse, ctx, bp);
      }
    }
  };

  visitProgram(parse(text), 0, []);
  return out;
}
