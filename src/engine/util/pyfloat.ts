// Python's int and float, which a JavaScript number cannot tell apart when the float is whole: YAML's
// `1.0`, Jinja's `4 / 2` and `| float` are floats, printed `1.0` / `2.0`. A whole float is a PyFloat
// (a Number object); every other number is what it looks like: whole is int, fractional (or inf/nan)
// is float. Made where floats are born (YAML, Jinja literals and arithmetic, filters, literal_eval)
// and read by whatever prints or compares values.

export class PyFloat extends Number {}

/** A float result: a PyFloat when it is whole. */
export function float(n: number): number | PyFloat {
  return Number.isInteger(n) ? new PyFloat(n) : n;
}

export const isNumber = (v: unknown): v is number | PyFloat => typeof v === 'number' || v instanceof PyFloat;

export const isFloat = (v: unknown): boolean => v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));

export const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** The plain number of a PyFloat; anything else as it is. */
export const plain = <T>(v: T): T | number => (v instanceof PyFloat ? v.valueOf() : v);

/** `v` with every PyFloat inside it a plain number (a copy where one was found), for code that wants JS numbers. */
export function plainDeep(v: unknown): unknown {
  if (v instanceof PyFloat) return v.valueOf();
  if (Array.isArray(v)) return v.some(hasFloat) ? v.map(plainDeep) : v;
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && hasFloat(v))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainDeep(x)]));
  return v;
}

function hasFloat(v: unknown, depth = 0): boolean {
  if (v instanceof PyFloat) return true;
  if (depth > 50 || !v || typeof v !== 'object') return false;
  return Object.values(v).some((x) => hasFloat(x, depth + 1));
}

/** Python's repr(float): the shortest digits that read back, fixed from 1e-4 up to 1e16, else exponent. */
export function floatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [mant, e] = Math.abs(n).toExponential().split('e');
  const exp = Number(e);
  const digits = mant.replace('.', '');
  const sign = n < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) return `${sign}${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  return `${sign}${int}.${digits.slice(exp + 1) || '0'}`;
}

/** Python's repr of a number: an int in full, a float as floatRepr. */
export function numberRepr(v: number | PyFloat): string {
  const n = v.valueOf();
  if (isFloat(v)) return floatRepr(n);
  return Math.abs(n) >= 1e21 ? BigInt(n).toString() : String(n);
}

const MARK = '\u{f8ff}pyfloat:';

/** JSON.stringify, with a whole float written as Python's json does (`1.0`), not `1`. */
export function jsonText(v: unknown, indent?: number): string {
  let found = false;
  const text = JSON.stringify(
    v,
    (_k, x: unknown) => {
      if (!(x instanceof PyFloat)) return x;
      found = true;
      return Number.isFinite(x.valueOf()) ? `${MARK}${floatRepr(x.valueOf())}` : null;
    },
    indent,
  );
  return found ? text.replace(new RegExp(`"${MARK}([^"]*)"`, 'g'), '$1') : text;
}

/** JSON.parse, with a whole float of the text (`1.0`, `1e3`) a PyFloat, as Python's json.loads reads it. */
export function jsonParse(text: string): unknown {
  if (text.includes('\u{f8ff}') || /\\uf8ff/i.test(text)) return JSON.parse(text);
  let found = false;
  // Outside strings, a number with a "." or an exponent whose value is whole becomes a marked string.
  const marked = text.replace(
    /"(?:[^"\\]|\\.)*"|-?\d+(\.\d+)?([eE][+-]?\d+)?/g,
    (tok: string, frac?: string, exp?: string) => {
      if (tok.startsWith('"') || (frac === undefined && exp === undefined) || !Number.isInteger(Number(tok)))
        return tok;
      found = true;
      return `"${MARK}${tok}"`;
    },
  );
  if (!found) return JSON.parse(text);
  return JSON.parse(marked, (_k, v: unknown) =>
    typeof v === 'string' && v.startsWith(MARK) ? new PyFloat(Number(v.slice(MARK.length))) : v,
  );
}
