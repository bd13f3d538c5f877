// YAML as PyYAML's dump writes it (Ansible's to_yaml / to_nice_yaml): keys sorted, plain scalars where
// YAML 1.1 would read them back as the same string, single quotes otherwise (double quotes for text
// with line breaks or control characters); `flow` (to_yaml's default) writes a collection of scalars
// inline as `[1, 2]` / `{a: 1}`. Long lines are not folded (PyYAML folds at 80 columns).
import { isFloat, isNumber, isPlainObject } from './values.js';
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
  const s = String(v);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0b-\x1f\x7f\n\r\t]/.test(s) || /[\u0080-\u009f\ufeff]/.test(s)) return doubleQuoted(s);
  const plain =
    s !== '' &&
    !RESOLVES.test(s) &&
    !/^[-?:,[\]{}#&*!|>'"%@`\s]/.test(s) &&
    !/^[-?:](\s|$)/.test(s) &&
    !/\s$/.test(s) &&
    !/: |:$| #/.test(s) &&
    !(inFlow && /[,[\]{}]/.test(s));
  // A leading "-", "?" or ":" followed by a non-space is allowed in plain style.
  const indicatorOk =
    /^[-?:][^\s]/.test(s) &&
    !RESOLVES.test(s) &&
    !/: |:$| #/.test(s) &&
    !/\s$/.test(s) &&
    !(inFlow && /[,[\]{}]/.test(s));
  if (plain || indicatorOk) return s;
  return `'${s.replace(/'/g, "''")}'`;
}

function doubleQuoted(s: string): string {
  let out = '"';
  for (const ch of s) {
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
    };
    if (Object.hasOwn(esc, ch)) out += esc[ch];
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (c === 0xfeff) out += '\\uFEFF';
    else out += ch;
  }
  return `${out}"`;
}

const isColl = (v: unknown): v is unknown[] | Record<string, unknown> => Array.isArray(v) || isPlainObject(v);
const entries = (v: Record<string, unknown>) =>
  Object.keys(v)
    .sort()
    .map((k) => [k, v[k]] as const);

function flowOf(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(flowOf).join(', ')}]`;
  if (isPlainObject(v))
    return `{${entries(v)
      .map(([k, x]) => `${scalar(k, true)}: ${flowOf(x)}`)
      .join(', ')}}`;
  return scalar(v, true);
}

/** PyYAML's yaml.dump(v, default_flow_style=flow ? None : False, indent, allow_unicode=True, sort_keys=True). */
export function pyYamlDump(v: unknown, opts: { indent?: number; flow?: boolean } = {}): string {
  const indent = opts.indent ?? 2;
  const flow = opts.flow ?? false;
  const inlineable = (x: unknown) =>
    !isColl(x) ||
    (Array.isArray(x) ? x.length === 0 : Object.keys(x).length === 0) ||
    (flow && !(Array.isArray(x) ? x : Object.values(x)).some(isColl));
  const lines: string[] = [];
  const inline = (x: unknown) => (isColl(x) ? flowOf(x) : scalar(x, false));
  // `first` is the text already on the line where this node starts ("- " items, or nothing).
  const block = (x: unknown, col: number, lead: string | undefined): void => {
    if (Array.isArray(x)) {
      x.forEach((item, i) => {
        const prefix = i === 0 && lead !== undefined ? lead : ' '.repeat(col);
        const dash = `-${' '.repeat(Math.max(indent - 1, 1))}`;
        if (inlineable(item)) lines.push(`${prefix}- ${inline(item)}`);
        else block(item, prefix.length + dash.length, `${prefix}${dash}`);
      });
      return;
    }
    entries(x as Record<string, unknown>).forEach(([k, item], i) => {
      const prefix = i === 0 && lead !== undefined ? lead : ' '.repeat(col);
      const key = `${prefix}${scalar(k, false)}:`;
      if (inlineable(item)) lines.push(`${key} ${inline(item)}`);
      else if (Array.isArray(item)) {
        lines.push(key);
        block(item, col, undefined); // PyYAML writes a mapping's list without indenting it
      } else {
        lines.push(key);
        block(item, col + indent, undefined);
      }
    });
  };
  if (inlineable(v)) return `${inline(v)}\n${isColl(v) ? '' : '...\n'}`.replace(/\n\.\.\.\n$/, '\n');
  block(v, 0, undefined);
  return `${lines.join('\n')}\n`;
}
