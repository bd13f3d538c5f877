// Python's ast.literal_eval, as ansible-core 2.14 applies it to a template's text result that starts
// with "{" or "[" or is "True"/"False" (with JSON's true/false/null read as Python's too). Strings,
// numbers, True/False/None, lists, tuples (as lists), dicts and sets (as lists); anything else — a
// name, a call, an operator other than a sign — is "not a literal" and the text stays text.
import { SIMPLE_ESCAPES } from '../util/kv.js';
import { PyFloat, float, isFloat, isNumber, numberRepr } from '../util/pyfloat.js';

/** A backslash before a newline joins the lines; the others as Python reads them. */
const ESCAPES: Record<string, string> = { '\n': '', ...SIMPLE_ESCAPES };

class NotLiteral extends Error {}

const NAMES: Record<string, unknown> = { True: true, False: false, None: null, true: true, false: false, null: null };

/** The literal's value, or `undefined` when the text is not a Python literal. */
export function literalEval(text: string): { value: unknown } | undefined {
  const p = new LitParser(text);
  try {
    p.skip();
    const value = p.value();
    p.skip();
    if (p.i < text.length) return undefined;
    return { value };
  } catch (e) {
    if (e instanceof NotLiteral) return undefined;
    throw e;
  }
}

class LitParser {
  i = 0;
  constructor(private readonly s: string) {}

  skip(): void {
    for (;;) {
      const m = /^(?:[ \t\r\n\f]+|#[^\n]*|\\\n)/.exec(this.s.slice(this.i));
      if (!m) return;
      this.i += m[0].length;
    }
  }

  private fail(): never {
    throw new NotLiteral();
  }

  private eat(c: string): boolean {
    this.skip();
    if (this.s.startsWith(c, this.i)) {
      this.i += c.length;
      return true;
    }
    return false;
  }

  value(): unknown {
    this.skip();
    const c = this.s[this.i];
    if (c === '[') {
      this.i++;
      return this.seq(']');
    }
    if (c === '(') {
      this.i++;
      if (this.eat(')')) return [];
      const first = this.value();
      if (this.eat(')')) return first; // parentheses around one value
      if (!this.eat(',')) this.fail();
      return [first, ...this.seq(')')];
    }
    if (c === '{') {
      this.i++;
      if (this.eat('}')) return {};
      const k = this.value();
      if (this.eat(':')) {
        const out: Record<string, unknown> = {};
        let key = k;
        for (;;) {
          const v = this.value();
          Object.defineProperty(out, keyOf(key), { value: v, enumerable: true, writable: true, configurable: true });
          if (this.eat('}')) return out;
          if (!this.eat(',')) this.fail();
          if (this.eat('}')) return out;
          key = this.value();
          if (!this.eat(':')) this.fail();
        }
      }
      // A set: its members, in order (JSON has no sets).
      if (this.eat('}')) return [k];
      if (!this.eat(',')) this.fail();
      return [k, ...this.seq('}')];
    }
    if (c === '-' || c === '+') {
      this.i++;
      const v = this.value();
      if (!isNumber(v)) this.fail();
      return c === '-' ? (isFloat(v) ? float(-v) : -v) : v;
    }
    if (c === '"' || c === "'") return this.strings('');
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    if (name) {
      const w = name[0];
      if (/^[rRuU]$/.test(w) && /['"]/.test(this.s[this.i + 1] ?? '')) {
        this.i++;
        return this.strings(w.toLowerCase());
      }
      if (!Object.hasOwn(NAMES, w)) this.fail();
      this.i += w.length;
      return NAMES[w];
    }
    return this.number();
  }

  /** Items up to `close`, a trailing comma allowed; the opener is consumed. */
  private seq(close: string): unknown[] {
    const out: unknown[] = [];
    if (this.eat(close)) return out;
    for (;;) {
      out.push(this.value());
      if (this.eat(close)) return out;
      if (!this.eat(',')) this.fail();
      if (this.eat(close)) return out;
    }
  }

  private number(): number | PyFloat {
    const rest = this.s.slice(this.i);
    const m =
      /^0[xX](?:_?[0-9a-fA-F])+|^0[oO](?:_?[0-7])+|^0[bB](?:_?[01])+|^(?:\d(?:_?\d)*)?\.?(?:\d(?:_?\d)*)?(?:[eE][+-]?\d(?:_?\d)*)?/.exec(
        rest,
      );
    const t = m?.[0] ?? '';
    if (!t || t === '.' || !/\d/.test(t)) this.fail();
    if (/^[jJ]/.test(rest.slice(t.length)) || /^[A-Za-z_0-9]/.test(rest.slice(t.length))) this.fail();
    // Python forbids leading zeros in a decimal integer ("007").
    if (/^0\d/.test(t) && !/[.eE]/.test(t) && !/^0+$/.test(t.replace(/_/g, ''))) this.fail();
    this.i += t.length;
    const clean = t.replace(/_/g, '');
    if (/^0[xX]/.test(clean)) return parseInt(clean.slice(2), 16);
    if (/^0[oO]/.test(clean)) return parseInt(clean.slice(2), 8);
    if (/^0[bB]/.test(clean)) return parseInt(clean.slice(2), 2);
    return /[.eE]/.test(clean) ? float(Number(clean)) : Number(clean);
  }

  /** One or more adjacent string literals (they concatenate); `prefix` was already consumed for the first. */
  private strings(prefix: string): string {
    let out = this.str(prefix);
    for (;;) {
      this.skip();
      const m = /^([rRuU]?)(['"])/.exec(this.s.slice(this.i));
      if (!m) return out;
      this.i += m[1].length;
      out += this.str(m[1].toLowerCase());
    }
  }

  private str(prefix: string): string {
    const raw = prefix === 'r';
    const q = this.s.startsWith(this.s[this.i].repeat(3), this.i) ? this.s[this.i].repeat(3) : this.s[this.i];
    this.i += q.length;
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) this.fail();
      if (this.s.startsWith(q, this.i)) {
        this.i += q.length;
        return out;
      }
      const ch = this.s[this.i];
      if (ch === '\n' && q.length === 1) this.fail();
      if (ch !== '\\') {
        out += ch;
        this.i++;
        continue;
      }
      const e = this.s[this.i + 1];
      if (e === undefined) this.fail();
      if (raw) {
        out += ch + e;
        this.i += 2;
        continue;
      }
      this.i += 2;
      if (Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e];
        continue;
      }
      if (/[0-7]/.test(e)) {
        const m = /^[0-7]{1,3}/.exec(this.s.slice(this.i - 1))!;
        out += String.fromCodePoint(parseInt(m[0], 8));
        this.i += m[0].length - 1;
        continue;
      }
      const hex = { x: 2, u: 4, U: 8 }[e];
      if (hex) {
        const h = this.s.slice(this.i, this.i + hex);
        if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(h)) this.fail();
        out += String.fromCodePoint(parseInt(h, 16));
        this.i += hex;
        continue;
      }
      if (e === 'N') this.fail();
      out += ch + e;
    }
  }
}

function keyOf(k: unknown): string {
  if (typeof k === 'string') return k;
  if (isNumber(k)) return numberRepr(k);
  if (k === true) return 'True';
  if (k === false) return 'False';
  if (k === null) return 'None';
  throw new NotLiteral(); // a list or dict is not hashable: Python raises TypeError (not caught by Ansible)
}
