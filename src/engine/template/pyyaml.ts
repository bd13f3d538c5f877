// YAML as PyYAML's dump writes it (Ansible's to_yaml / to_nice_yaml): keys sorted, plain scalars where
// YAML 1.1 would read them back as the same string, single quotes otherwise (double quotes for text
// with line breaks or control characters); `flow` (to_yaml's default) writes a collection of scalars
// inline as `[1, 2]` / `{a: 1}`. Long lines fold as PyYAML folds them (at 80 columns, or `width`).
import { PyDate, isFloat, isNumber, isPlainObject } from './values.js';
import { numberRepr } from '../util/pyfloat.js';

const RESOLVES =
  /^(?:~|null|Null|NULL|yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|[-+]?(?:0b[01_]+|0[0-7_]+|(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)|[-+]?(?:[0-9][0-9_]*)?\.[0-9.]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|\d{4}-\d\d?-\d\d?(?:(?:[Tt]|[ \t]+)\d\d?:\d\d:\d\d(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d\d?(?::\d\d)?))?)?|=|<<)$/;

function scalar(v: unknown, inFlow: boolean): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (isNumber(v)) {
    const n = v.valueOf();
    if (Number.isNaN(n)) return '.nan';
    if (!Number.isFinite(n)) return n > 0 ? '.inf' : '-.inf';
    // PyYAML writes repr(float), with ".0" put before an exponent that has no "." (1.0e+16).
    const r = numberRepr(v);
    return isFloat(v) && !r.includes('.') ? r.replace('e', '.0e') : r;
  }
  if (v instanceof PyDate) return v.toString(); // PyYAML's timestamp, plain
  const s = String(v);
  // Line breaks alone (no space next to one, no other control character) are single-quoted, the breaks
  // written as lines; anything else unprintable is double-quoted.
  // eslint-disable-next-line no-control-regex
  if (s.includes('\n') && !/ \n|\n |[\x00-\x08\x0b-\x1f\x7f\r\t\u0080-\u009f\ufeff\u{10000}-\u{10ffff}]/u.test(s))
    return `'${s}'`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0b-\x1f\x7f\n\r\t]/.test(s) || /[\u0080-\u009f\ufeff\u{10000}-\u{10ffff}]/u.test(s))
    return doubleQuoted(s);
  const plain =
    s !== '' &&
    !RESOLVES.test(s) &&
    !/^[-?:,[\]{}#&*!|>'"%@`\s]/.test(s) &&
    !/^[-?:](\s|$)/.test(s) &&
    !/\s$/.test(s) &&
    !/: |:$| #/.test(s) &&
    !(inFlow && /[,?[\]{}:]/.test(s));
  // A leading "-", "?" or ":" followed by a non-space is allowed in plain style.
  const indicatorOk =
    /^[-?:][^\s]/.test(s) &&
    !RESOLVES.test(s) &&
    !/: |:$| #/.test(s) &&
    !/\s$/.test(s) &&
    !(inFlow && /[,?[\]{}:]/.test(s));
  if (plain || indicatorOk) return s;
  return `'${s.replace(/'/g, "''")}'`;
}

/** How a double-quoted scalar writes `ch`: an escape, or undefined for the character itself. */
function escapeChar(ch: string): string | undefined {
  const c = ch.codePointAt(0)!;
  const esc: Record<string, string> = {
    '\\': '\\\\',
    '"': '\\"',
    '\n': '\\n',
    '\t': '\\t',
    '\r': '\\r',
    '\0': '\\0',
    '\x07': '\\a',
    '\b': '\\b',
    '\x1b': '\\e',
    '\f': '\\f',
    '\v': '\\v',
    '\x85': '\\N',
    '\u2028': '\\L',
    '\u2029': '\\P',
  };
  if (Object.hasOwn(esc, ch)) return esc[ch];
  if (c < 0x20 || (c >= 0x7f && c < 0xa0)) return `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`;
  if (c === 0xfeff) return '\\uFEFF';
  if (c > 0xffff) return `\\U${c.toString(16).toUpperCase().padStart(8, '0')}`;
  return undefined;
}

function doubleQuoted(s: string): string {
  return `"${[...s].map((ch) => escapeChar(ch) ?? ch).join('')}"`;
}

const isColl = (v: unknown): v is unknown[] | Record<string, unknown> => Array.isArray(v) || isPlainObject(v);
const entries = (v: Record<string, unknown>) =>
  Object.keys(v)
    .sort()
    .map((k) => [k, v[k]] as const);

const cps = (s: string) => [...s];

/**
 * PyYAML's Emitter for the events a dump of plain data makes, column by column, so that long lines
 * fold where PyYAML folds them: a plain or quoted scalar breaks at a single space once the line is past
 * `width`, a flow collection before an item that would start past it. Continuation lines are indented
 * as PyYAML indents them; keys never fold.
 */
class Emitter {
  out = '';
  private column = 0;
  private whitespace = true;
  private indention = true;
  private indent: number | undefined;
  private readonly indents: (number | undefined)[] = [];
  private flowLevel = 0;

  constructor(
    private readonly bestIndent: number,
    private readonly bestWidth: number,
    private readonly flowLeaves: boolean,
  ) {}

  private write(s: string): void {
    this.out += s;
    this.column += cps(s).length;
  }

  private lineBreak(): void {
    this.out += '\n';
    this.whitespace = true;
    this.indention = true;
    this.column = 0;
  }

  writeIndent(): void {
    const indent = this.indent ?? 0;
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.lineBreak();
    if (this.column < indent) {
      this.out += ' '.repeat(indent - this.column);
      this.column = indent;
    }
    this.whitespace = true;
    this.indention = true;
  }

  private indicator(text: string, needWhitespace: boolean, whitespace = false, indention = false): void {
    this.write(this.whitespace || !needWhitespace ? text : ` ${text}`);
    this.whitespace = whitespace;
    this.indention = this.indention && indention;
  }

  private increaseIndent(flow: boolean, indentless = false): void {
    this.indents.push(this.indent);
    if (this.indent === undefined) this.indent = flow ? this.bestIndent : 0;
    else if (!indentless) this.indent += this.bestIndent;
  }

  private popIndent(): void {
    this.indent = this.indents.pop();
  }

  node(v: unknown, ctx: { mapping?: boolean; simpleKey?: boolean } = {}): void {
    if (!isColl(v)) return this.scalar(v, ctx.simpleKey ?? false);
    const items = Array.isArray(v) ? v : Object.values(v);
    const flow = this.flowLevel > 0 || items.length === 0 || (this.flowLeaves && !items.some(isColl));
    if (Array.isArray(v)) return flow ? this.flowSequence(v) : this.blockSequence(v, ctx.mapping ?? false);
    return flow ? this.flowMapping(v) : this.blockMapping(v);
  }

  private blockSequence(v: unknown[], mapping: boolean): void {
    this.increaseIndent(false, mapping && !this.indention);
    for (const item of v) {
      this.writeIndent();
      this.indicator('-', true, false, true);
      this.node(item);
    }
    this.popIndent();
  }

  private blockMapping(v: Record<string, unknown>): void {
    this.increaseIndent(false);
    for (const [k, item] of entries(v)) {
      this.writeIndent();
      this.node(k, { mapping: true, simpleKey: true });
      this.indicator(':', false);
      this.node(item, { mapping: true });
    }
    this.popIndent();
  }

  private flowSequence(v: unknown[]): void {
    this.indicator('[', true, true);
    this.flowLevel++;
    this.increaseIndent(true);
    v.forEach((item, i) => {
      if (i > 0) this.indicator(',', false);
      if (this.column > this.bestWidth) this.writeIndent();
      this.node(item);
    });
    this.popIndent();
    this.flowLevel--;
    this.indicator(']', false);
  }

  private flowMapping(v: Record<string, unknown>): void {
    this.indicator('{', true, true);
    this.flowLevel++;
    this.increaseIndent(true);
    entries(v).forEach(([k, item], i) => {
      if (i > 0) this.indicator(',', false);
      if (this.column > this.bestWidth) this.writeIndent();
      this.node(k, { mapping: true, simpleKey: true });
      this.indicator(':', false);
      this.node(item, { mapping: true });
    });
    this.popIndent();
    this.flowLevel--;
    this.indicator('}', false);
  }

  private scalar(v: unknown, simpleKey: boolean): void {
    this.increaseIndent(true);
    const text = scalar(v, this.flowLevel > 0);
    const split = !simpleKey;
    if (typeof v === 'string' && text.startsWith("'")) this.singleQuoted(v, split);
    else if (typeof v === 'string' && text.startsWith('"')) this.doubleQuoted(v, split);
    else this.plain(text, split);
    this.popIndent();
  }

  // The scalar writers are libyaml's (Ansible dumps with PyYAML's C emitter): a single space, once the
  // line is past the width, becomes a line break and the indentation.
  private fold(t: string[], i: number, split: boolean): boolean {
    return split && t[i - 1] !== ' ' && this.column > this.bestWidth;
  }

  private plain(text: string, split: boolean): void {
    if (!this.whitespace && (text || this.flowLevel)) this.write(' ');
    const t = cps(text);
    t.forEach((ch, i) => {
      if (ch === ' ' && this.fold(t, i, split) && t[i + 1] !== ' ') this.writeIndent();
      else this.write(ch);
      if (ch !== ' ') this.indention = false;
    });
    this.whitespace = false;
    this.indention = false;
  }

  private singleQuoted(text: string, split: boolean): void {
    this.indicator("'", true);
    const t = cps(text);
    let breaks = false;
    t.forEach((ch, i) => {
      if (ch === ' ') {
        if (this.fold(t, i, split) && i !== 0 && i !== t.length - 1 && t[i + 1] !== ' ') this.writeIndent();
        else this.write(ch);
      } else if (ch === '\n') {
        // A line break is written twice (once for the break, once folded away), then the text resumes indented.
        if (!breaks) this.out += '\n';
        this.out += '\n';
        this.column = 0;
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.write(ch === "'" ? "''" : ch);
        this.indention = false;
        breaks = false;
      }
    });
    if (breaks) this.writeIndent();
    this.indicator("'", false);
    this.whitespace = false;
    this.indention = false;
  }

  private doubleQuoted(text: string, split: boolean): void {
    this.indicator('"', true);
    const t = cps(text);
    t.forEach((ch, i) => {
      const escaped = escapeChar(ch);
      if (escaped !== undefined) this.write(escaped);
      else if (ch === ' ' && this.fold(t, i, split) && i !== 0 && i !== t.length - 1) {
        this.writeIndent();
        if (t[i + 1] === ' ') this.write('\\');
      } else this.write(ch);
    });
    this.indicator('"', false);
    this.whitespace = false;
    this.indention = false;
  }
}

/**
 * PyYAML's yaml.dump(v, default_flow_style=flow ? None : False, indent, width, allow_unicode=True,
 * sort_keys=True).
 */
export function pyYamlDump(v: unknown, opts: { indent?: number; flow?: boolean; width?: number } = {}): string {
  const indent = opts.indent !== undefined && opts.indent > 1 && opts.indent < 10 ? opts.indent : 2;
  const width = opts.width !== undefined && opts.width > indent * 2 ? opts.width : 80;
  const e = new Emitter(indent, width, opts.flow ?? false);
  e.node(v);
  e.writeIndent();
  return e.out;
}
