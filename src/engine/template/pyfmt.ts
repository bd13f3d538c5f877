// Python's text conventions that templates show: `'%s' % args` (Jinja's `format` filter), `str.format`,
// `time.strftime`, `str.center`/`title`, `textwrap`-style wrapping, `pprint`. Each follows Python 3's
// documented behaviour for the cases playbooks use; what cannot be done is an error, never a guess.
import { isFloat, isNumber, isPlainObject, pyRepr, toStr, typeName } from './values.js';
import { floatRepr } from '../util/pyfloat.js';

export class FormatError extends Error {}

/** `fmt % args` (args: a list of positional values, or one dict for `%(name)s`). */
export function percentFormat(fmt: string, args: unknown[] | Record<string, unknown>): string {
  let next = 0;
  const positional = Array.isArray(args) ? args : undefined;
  const re = /%(?:\(([^)]*)\))?([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])/g;
  const out = fmt.replace(re, (whole, key: string | undefined, flags: string, w: string, p: string, conv: string) => {
    if (conv === '%') return '%';
    const take = (): unknown => {
      if (!positional) throw new FormatError('format requires a mapping');
      if (next >= positional.length) throw new FormatError('not enough arguments for format string');
      return positional[next++];
    };
    const width = w === '*' ? Number(take()) : w ? Number(w) : 0;
    const prec = p === '*' ? Number(take()) : p !== undefined ? Number(p) : undefined;
    let v: unknown;
    if (key !== undefined) {
      if (!isPlainObject(args)) throw new FormatError('format requires a mapping');
      if (!Object.hasOwn(args, key)) throw new FormatError(`KeyError: '${key}'`);
      v = args[key];
    } else v = take();
    return pad(convert(conv, v, flags, prec), width, flags, /[diouxXeEfFgG]/.test(conv));
  });
  if (positional && next < positional.length)
    throw new FormatError('not all arguments converted during string formatting');
  return out;
}

function num(v: unknown, conv: string): number {
  if (isNumber(v)) return v.valueOf();
  if (typeof v === 'boolean') return Number(v);
  throw new FormatError(`%${conv} format: a real number is required, not ${typeName(v)}`);
}

function sign(n: number, flags: string, body: string): string {
  if (n < 0 || Object.is(n, -0)) return `-${body}`;
  if (flags.includes('+')) return `+${body}`;
  if (flags.includes(' ')) return ` ${body}`;
  return body;
}

function convert(conv: string, v: unknown, flags: string, prec: number | undefined): string {
  switch (conv) {
    case 's':
      return prec !== undefined ? toStr(v).slice(0, prec) : toStr(v);
    case 'r':
    case 'a':
      return pyRepr(v);
    case 'c':
      return isNumber(v) ? String.fromCodePoint(v.valueOf()) : toStr(v);
    case 'd':
    case 'i':
    case 'u': {
      const n = Math.trunc(num(v, conv));
      return sign(n, flags, String(Math.abs(n)));
    }
    case 'o':
    case 'x':
    case 'X': {
      const n = Math.trunc(num(v, conv));
      let body = Math.abs(n).toString(conv === 'o' ? 8 : 16);
      if (flags.includes('#')) body = (conv === 'o' ? '0o' : '0x') + body;
      return sign(n, flags, conv === 'X' ? body.toUpperCase() : body);
    }
    case 'f':
    case 'F': {
      const n = num(v, conv);
      return sign(n, flags, fixed(Math.abs(n), prec ?? 6));
    }
    case 'e':
    case 'E': {
      const n = num(v, conv);
      const body = expo(Math.abs(n), prec ?? 6);
      return sign(n, flags, conv === 'E' ? body.toUpperCase() : body);
    }
    default: {
      // g / G: Python's rules for choosing between fixed and exponent notation.
      const n = num(v, conv);
      const body = general(Math.abs(n), prec ?? 6, flags.includes('#'));
      return sign(n, flags, conv === 'G' ? body.toUpperCase() : body);
    }
  }
}

/**
 * Fixed notation as Python rounds: on the double's exact decimal value, an exact tie going to the even
 * digit ('%.1f' % 2.25 is '2.2'; JavaScript's toFixed rounds ties up).
 */
export function fixed(n: number, prec: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'nan' : n > 0 ? 'inf' : '-inf';
  if (Math.abs(n) >= 1e21 || prec > 99) return n.toFixed(Math.min(prec, 100));
  const [int, frac] = Math.abs(n).toFixed(100).split('.');
  if (/^50*$/.test(frac.slice(prec))) {
    const kept = prec ? `${int}.${frac.slice(0, prec)}` : int;
    const last = Number(kept[kept.length - 1]);
    if (last % 2 === 0) return (n < 0 ? '-' : '') + kept;
  }
  return n.toFixed(prec);
}

function expo(n: number, prec: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'nan' : 'inf';
  const [m, e] = n.toExponential(prec).split('e');
  const exp = Number(e);
  return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function general(n: number, prec: number, alt: boolean): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'nan' : 'inf';
  const p = prec === 0 ? 1 : prec;
  const exp = n === 0 ? 0 : Number(n.toExponential(p - 1).split('e')[1]);
  let body = exp >= -4 && exp < p ? n.toFixed(p - 1 - exp) : expo(n, p - 1);
  if (!alt) {
    body = body.includes('e') ? body.replace(/\.?0+e/, 'e') : body.includes('.') ? body.replace(/\.?0+$/, '') : body;
  }
  return body;
}

function pad(s: string, width: number, flags: string, numeric: boolean): string {
  if (s.length >= width) return s;
  if (flags.includes('-')) return s.padEnd(width);
  if (flags.includes('0') && numeric) {
    const m = /^([-+ ]?(?:0[xo])?)(.*)$/.exec(s)!;
    return m[1] + m[2].padStart(width - m[1].length, '0');
  }
  return s.padStart(width);
}

/** Python's str.center. */
export function center(s: string, width: number, fill = ' '): string {
  const total = width - s.length;
  if (total <= 0) return s;
  // CPython: left = total / 2 + (total & width & 1)
  const left = Math.floor(total / 2) + (total & width & 1);
  return fill.repeat(left) + s + fill.repeat(total - left);
}

/** Jinja's title: each word's first letter upper, the rest lower; words split on whitespace and -({[<. */
export function title(s: string): string {
  return s
    .split(/([-\s({[<]+)/)
    .filter((x) => x !== '')
    .map((x) => x.charAt(0).toUpperCase() + x.slice(1).toLowerCase())
    .join('');
}

/** Python's `str.format(*args, **kwargs)` for `{}`, `{0}`, `{name}`, `{name.attr}`, `{0[key]}` and format specs. */
export function braceFormat(fmt: string, args: unknown[], kwargs: Record<string, unknown>): string {
  let auto = 0;
  return fmt.replace(/\{\{|\}\}|\{([^{}!:]*)(?:!([rsa]))?(?::([^{}]*))?\}/g, (whole, field: string, conv, spec) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    const m = /^([^.[]*)(.*)$/.exec(field)!;
    let v: unknown;
    if (m[1] === '') {
      if (auto >= args.length) throw new FormatError(`Replacement index ${auto} out of range`);
      v = args[auto++];
    } else if (/^\d+$/.test(m[1])) {
      if (Number(m[1]) >= args.length) throw new FormatError(`Replacement index ${m[1]} out of range`);
      v = args[Number(m[1])];
    } else {
      if (!Object.hasOwn(kwargs, m[1])) throw new FormatError(`KeyError: '${m[1]}'`);
      v = kwargs[m[1]];
    }
    for (const part of m[2].matchAll(/\.([^.[]+)|\[([^\]]+)\]/g)) {
      const key = part[1] ?? part[2];
      if (Array.isArray(v) && /^\d+$/.test(key)) v = v[Number(key)];
      else if (isPlainObject(v) && Object.hasOwn(v, key)) v = v[key];
      else throw new FormatError(`no attribute or key "${key}"`);
    }
    if (conv === 'r' || conv === 'a') v = pyRepr(v);
    else if (conv === 's') v = toStr(v);
    return formatSpec(v, spec ?? '');
  });
}

function formatSpec(v: unknown, spec: string): string {
  if (!spec) return toStr(v);
  const m = /^(?:(.)?([<>=^]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/.exec(spec);
  if (!m) throw new FormatError(`invalid format specifier "${spec}"`);
  const [, fillc, align, sgn, alt, zero, w, group, p, type] = m;
  let body: string;
  const n = isNumber(v) ? v.valueOf() : undefined;
  if (type && type !== 's') {
    if (n === undefined) throw new FormatError(`unknown format code '${type}' for ${typeName(v)}`);
    const flags = (sgn ?? '') + (alt ? '#' : '');
    if (type === '%') body = `${convert('f', n * 100, flags, p !== undefined ? Number(p) : 6)}%`;
    else if (type === 'b') body = sign(n, flags, (alt ? '0b' : '') + Math.abs(Math.trunc(n)).toString(2));
    else if (type === 'n') body = convert('g', n, flags, p !== undefined ? Number(p) : 6);
    else body = convert(type, n, flags, p !== undefined ? Number(p) : undefined);
  } else if (n !== undefined && !type) {
    const digits = isFloat(v) ? floatRepr(Math.abs(n)) : String(Math.abs(n));
    body = p !== undefined ? convert('g', n, sgn ?? '', Number(p)) : sign(n, sgn ?? '', digits);
  } else {
    body = toStr(v);
    if (p !== undefined) body = body.slice(0, Number(p));
  }
  if (group && n !== undefined) {
    const [int, frac] = body.split('.');
    body = int.replace(/\B(?=(\d{3})+(?!\d))/g, group) + (frac !== undefined ? `.${frac}` : '');
  }
  const width = w ? Number(w) : 0;
  if (body.length >= width) return body;
  const fill = fillc ?? (zero && !align ? '0' : ' ');
  const how = align ?? (zero ? '=' : n !== undefined ? '>' : '<');
  const gap = width - body.length;
  if (how === '<') return body + fill.repeat(gap);
  if (how === '>') return fill.repeat(gap) + body;
  if (how === '^') return fill.repeat(Math.floor(gap / 2)) + body + fill.repeat(gap - Math.floor(gap / 2));
  const sm = /^[-+ ]?/.exec(body)![0];
  return sm + fill.repeat(gap) + body.slice(sm.length);
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** Python's time.strftime (C locale) for a time in seconds, local time or UTC. */
export function strftime(fmt: string, seconds: number, utc: boolean): string {
  const d = new Date(seconds * 1000);
  const get = {
    Y: utc ? d.getUTCFullYear() : d.getFullYear(),
    m: (utc ? d.getUTCMonth() : d.getMonth()) + 1,
    d: utc ? d.getUTCDate() : d.getDate(),
    H: utc ? d.getUTCHours() : d.getHours(),
    M: utc ? d.getUTCMinutes() : d.getMinutes(),
    S: utc ? d.getUTCSeconds() : d.getSeconds(),
    w: utc ? d.getUTCDay() : d.getDay(),
  };
  const two = (n: number) => String(n).padStart(2, '0');
  const jan1 = utc ? Date.UTC(get.Y, 0, 1) : new Date(get.Y, 0, 1).getTime();
  const today = utc ? Date.UTC(get.Y, get.m - 1, get.d) : new Date(get.Y, get.m - 1, get.d).getTime();
  const yday = Math.round((today - jan1) / 86_400_000) + 1;
  const offset = utc ? 0 : -d.getTimezoneOffset();
  const map: Record<string, () => string> = {
    Y: () => String(get.Y),
    y: () => two(get.Y % 100),
    m: () => two(get.m),
    d: () => two(get.d),
    e: () => String(get.d).padStart(2, ' '),
    H: () => two(get.H),
    I: () => two(get.H % 12 || 12),
    M: () => two(get.M),
    S: () => two(get.S),
    p: () => (get.H < 12 ? 'AM' : 'PM'),
    a: () => DAYS[get.w].slice(0, 3),
    A: () => DAYS[get.w],
    b: () => MONTHS[get.m - 1].slice(0, 3),
    h: () => MONTHS[get.m - 1].slice(0, 3),
    B: () => MONTHS[get.m - 1],
    j: () => String(yday).padStart(3, '0'),
    w: () => String(get.w),
    u: () => String(get.w || 7),
    s: () => String(Math.floor(seconds)),
    z: () => `${offset < 0 ? '-' : '+'}${two(Math.floor(Math.abs(offset) / 60))}${two(Math.abs(offset) % 60)}`,
    Z: () =>
      utc
        ? 'UTC'
        : (Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
            .formatToParts(d)
            .find((x) => x.type === 'timeZoneName')?.value ?? ''),
    F: () => `${get.Y}-${two(get.m)}-${two(get.d)}`,
    T: () => `${two(get.H)}:${two(get.M)}:${two(get.S)}`,
    D: () => `${two(get.m)}/${two(get.d)}/${two(get.Y % 100)}`,
    R: () => `${two(get.H)}:${two(get.M)}`,
    c: () =>
      `${DAYS[get.w].slice(0, 3)} ${MONTHS[get.m - 1].slice(0, 3)} ${String(get.d).padStart(2, ' ')} ${two(get.H)}:${two(get.M)}:${two(get.S)} ${get.Y}`,
    x: () => `${two(get.m)}/${two(get.d)}/${two(get.Y % 100)}`,
    X: () => `${two(get.H)}:${two(get.M)}:${two(get.S)}`,
    n: () => '\n',
    t: () => '\t',
    '%': () => '%',
  };
  return fmt.replace(/%(.)/g, (whole, c: string) => (Object.hasOwn(map, c) ? map[c]() : whole));
}

/** Python's textwrap.wrap as Jinja's wordwrap uses it (break_long_words, break_on_hyphens). */
export function wordwrap(s: string, width: number, breakLong: boolean, wrapstring: string, hyphens: boolean): string {
  // Jinja wraps each paragraph line separately (splitlines), joining with wrapstring.
  return s
    .split(/\r\n|\r|\n/)
    .map((line) => wrapLine(line, width, breakLong, hyphens).join(wrapstring))
    .join(wrapstring);
}

function wrapLine(text: string, width: number, breakLong: boolean, hyphens: boolean): string[] {
  const expanded = text.replace(/\t/g, '        ').replace(/\s/g, ' ');
  const chunks = expanded.split(hyphens ? /( +|(?<=[A-Za-z]-)(?=[A-Za-z]))/ : /( +)/).filter((c) => c !== '');
  const lines: string[] = [];
  while (chunks.length) {
    const cur: string[] = [];
    let len = 0;
    if (lines.length && chunks[0].trim() === '') chunks.shift();
    while (chunks.length) {
      const l = chunks[0].length;
      if (len + l <= width) {
        cur.push(chunks.shift()!);
        len += l;
      } else break;
    }
    if (chunks.length && chunks[0].length > width) {
      const room = Math.max(width - len, 1);
      if (breakLong) {
        cur.push(chunks[0].slice(0, room));
        chunks[0] = chunks[0].slice(room);
      } else if (!cur.length) cur.push(chunks.shift()!);
    }
    while (cur.length && cur[cur.length - 1].trim() === '') cur.pop();
    if (cur.length) lines.push(cur.join(''));
    else if (!chunks.length) break;
  }
  return lines;
}
