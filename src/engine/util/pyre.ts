// Python `re` patterns (what Ansible playbooks are written with) as JavaScript RegExps, and Python's
// match.expand() for backrefs. The pattern is translated piece by piece into a Unicode-sets (`v`)
// RegExp with Python's meaning: `\A`, `\Z`, `^`/`$` with and without (?m) ("$" also before a final
// newline), "." not matching only "\n", (?s), (?x) verbose patterns, (?a), Unicode `\w`/`\d`/`\s`/`\b`,
// `(?P<name>…)`/`(?P=name)`, `{,n}`, a literal `{`, octal and `\x`/`\u`/`\U` escapes. What JavaScript
// cannot do — scoped flags `(?i:…)`, conditionals `(?(1)…)`, atomic groups and possessive quantifiers,
// `\N{…}` — is refused with a message, never matched differently.

export interface PyRegexOptions {
  ignorecase?: boolean;
  multiline?: boolean;
  dotall?: boolean;
}

class Refused extends Error {}

const WORD_U = '[\\p{L}\\p{N}_]';
const NOT_WORD_U = '[^\\p{L}\\p{N}_]';
const SPACE_U = '[\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const NOT_SPACE_U = '[^\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';

/** A character as it may appear, escaped, anywhere in a `v` RegExp. */
const lit = (c: string): string => {
  const cp = c.codePointAt(0)!;
  return /[A-Za-z0-9_ ]/.test(c) || (cp > 0x7f && !/\s/u.test(c)) ? c : `\\u{${cp.toString(16)}}`;
};

/** Translate a Python pattern into a JavaScript source and flags. Throws Refused or SyntaxError-like Error. */
function translate(pattern: string, opts: PyRegexOptions): { source: string; flags: string } {
  let i = 0;
  const flags = { i: !!opts.ignorecase, m: !!opts.multiline, s: !!opts.dotall, x: false, a: false };
  // Global inline flags, at the start only (Python 3.11 refuses them elsewhere).
  for (;;) {
    const m = /^\(\?([aiLmsux]+)\)/.exec(pattern.slice(i));
    if (!m) break;
    for (const f of m[1]) {
      if (f === 'L') throw new Refused('the (?L) locale flag is not supported');
      if (f in flags) flags[f as keyof typeof flags] = true;
    }
    i += m[0].length;
  }
  const word = () => (flags.a ? '[A-Za-z0-9_]' : WORD_U);
  const notWord = () => (flags.a ? '[^A-Za-z0-9_]' : NOT_WORD_U);
  const space = () => (flags.a ? '[\\t\\n\\v\\f\\r ]' : SPACE_U);
  const notSpace = () => (flags.a ? '[^\\t\\n\\v\\f\\r ]' : NOT_SPACE_U);
  const digit = () => (flags.a ? '[0-9]' : '\\p{Nd}');
  const notDigit = () => (flags.a ? '[^0-9]' : '\\P{Nd}');
  const boundary = (neg: boolean) => {
    const w = word();
    return neg ? `(?:(?<=${w})(?=${w})|(?<!${w})(?!${w}))` : `(?:(?<=${w})(?!${w})|(?<!${w})(?=${w}))`;
  };
  let out = '';
  let groups = 0;
  const names: string[] = [];

  /** A `\…` escape at pattern[i] ("\\" included); `inClass` for its meaning inside [...]. */
  const escape = (inClass: boolean): string => {
    const c = pattern[i + 1];
    if (c === undefined) throw new Error('bad escape (end of pattern)');
    i += 2;
    const hex = (n: number, what: string) => {
      const h = pattern.slice(i, i + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) throw new Error(`incomplete escape \\${what}${h}`);
      i += n;
      return lit(String.fromCodePoint(parseInt(h, 16)));
    };
    switch (c) {
      case 'd':
        return digit();
      case 'D':
        return notDigit();
      case 'w':
        return word();
      case 'W':
        return notWord();
      case 's':
        return space();
      case 'S':
        return notSpace();
      case 'n':
        return '\\n';
      case 't':
        return '\\t';
      case 'r':
        return '\\r';
      case 'f':
        return '\\f';
      case 'v':
        return '\\v';
      case 'a':
        return '\\x07';
      case 'x':
        return hex(2, 'x');
      case 'u':
        return hex(4, 'u');
      case 'U':
        return hex(8, 'U');
      case 'N':
        throw new Refused('named Unicode escapes (\\N{...}) are not supported');
      case 'b':
        return inClass ? '\\x08' : boundary(false);
      case 'B':
        if (inClass) throw new Error('bad escape \\B');
        return boundary(true);
      case 'A':
        if (inClass) throw new Error('bad escape \\A');
        return '(?<![\\s\\S])';
      case 'Z':
        if (inClass) throw new Error('bad escape \\Z');
        return '(?![\\s\\S])';
    }
    if (/[0-9]/.test(c)) {
      // Octal: \0, \0NN, or three octal digits; otherwise a group reference \1..\99.
      const oct = /^[0-7]{3}/.exec(pattern.slice(i - 1));
      if (c === '0' || inClass || oct) {
        const m = /^[0-7]{1,3}/.exec(pattern.slice(i - 1))!;
        i += m[0].length - 1;
        return lit(String.fromCodePoint(parseInt(m[0], 8)));
      }
      const m = /^[0-9]{1,2}/.exec(pattern.slice(i - 1))!;
      i += m[0].length - 1;
      const n = Number(m[0]);
      if (n > groups) throw new Error(`invalid group reference ${n}`);
      return `(?:\\${n})`;
    }
    if (/[A-Za-z]/.test(c)) throw new Error(`bad escape \\${c}`);
    return lit(c);
  };

  /** A character class at pattern[i] ("[" included). */
  const charClass = (): string => {
    i++;
    let neg = false;
    if (pattern[i] === '^') {
      neg = true;
      i++;
    }
    const items: string[] = [];
    let first = true;
    for (;;) {
      if (i >= pattern.length) throw new Error('unterminated character set');
      const c = pattern[i];
      if (c === ']' && !first) {
        i++;
        break;
      }
      first = false;
      let item: string;
      let single: string | undefined; // a single character, which may start a range
      if (c === '\\') {
        const before = i;
        item = escape(true);
        if (!item.startsWith('[') && !/^\\[pP]/.test(item)) single = item;
        if (pattern[before + 1] === 'x' || pattern[before + 1] === 'u' || pattern[before + 1] === 'U') single = item;
      } else {
        const ch = String.fromCodePoint(pattern.codePointAt(i)!);
        i += ch.length;
        item = single = lit(ch);
      }
      if (single !== undefined && pattern[i] === '-' && pattern[i + 1] !== ']' && pattern[i + 1] !== undefined) {
        i++;
        let hi: string;
        if (pattern[i] === '\\') {
          hi = escape(true);
          if (hi.startsWith('[') || /^\\[pP]/.test(hi)) throw new Error('bad character range');
        } else {
          const ch = String.fromCodePoint(pattern.codePointAt(i)!);
          i += ch.length;
          hi = lit(ch);
        }
        item = `${single}-${hi}`;
      }
      items.push(item);
    }
    return `[${neg ? '^' : ''}${items.join('')}]`;
  };

  /** After an atom: a quantifier, if any. */
  const quantifier = (): string => {
    const m = /^(?:[*+?]|\{(\d*)(?:(,)(\d*))?\})/.exec(pattern.slice(i));
    if (!m) return '';
    let q = m[0];
    if (q.startsWith('{')) {
      if (m[1] === '' && m[2] === undefined) return ''; // "{}" is literal
      q = `{${m[1] || '0'}${m[2] ? `,${m[3]}` : ''}}`;
      if (m[1] !== '' && m[3] && Number(m[3]) < Number(m[1])) throw new Error('min repeat greater than max repeat');
    }
    i += m[0].length;
    if (pattern[i] === '?') {
      i++;
      q += '?';
    } else if (pattern[i] === '+') throw new Refused('possessive quantifiers are not supported');
    return q;
  };

  const stack: number[] = [];
  let atomStart = true; // a quantifier here would have nothing to repeat
  while (i < pattern.length) {
    const c = pattern[i];
    if (flags.x && /\s/.test(c)) {
      i++;
      continue;
    }
    if (flags.x && c === '#') {
      const nl = pattern.indexOf('\n', i);
      i = nl < 0 ? pattern.length : nl + 1;
      continue;
    }
    let atom: string | undefined;
    let quantifiable = true;
    if (c === '\\') {
      const next = pattern[i + 1];
      atom = escape(false);
      if ('AZbB'.includes(next ?? '')) quantifiable = false;
    } else if (c === '[') atom = charClass();
    else if (c === '.') {
      i++;
      atom = flags.s ? '[\\s\\S]' : '[^\\n]';
    } else if (c === '^') {
      i++;
      atom = flags.m ? '(?:(?<![\\s\\S])|(?<=\\n))' : '(?<![\\s\\S])';
      quantifiable = false;
    } else if (c === '$') {
      i++;
      atom = flags.m ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))';
      quantifiable = false;
    } else if (c === '|') {
      i++;
      out += '|';
      atomStart = true;
      continue;
    } else if (c === ')') {
      if (!stack.length) throw new Error('unbalanced parenthesis');
      stack.pop();
      i++;
      out += ')';
      atomStart = false;
      const q = quantifier();
      out += q;
      continue;
    } else if (c === '(') {
      const rest = pattern.slice(i);
      let m: RegExpExecArray | null;
      if (rest.startsWith('(?#')) {
        const end = pattern.indexOf(')', i);
        if (end < 0) throw new Error('missing ), unterminated comment');
        i = end + 1;
        continue;
      }
      if ((m = /^\(\?P<([^\W\d]\w*)>/u.exec(rest))) {
        if (names.includes(m[1])) throw new Error(`redefinition of group name '${m[1]}'`);
        names.push(m[1]);
        groups++;
        out += `(?<${m[1]}>`;
      } else if ((m = /^\(\?P=([^\W\d]\w*)\)/u.exec(rest))) {
        if (!names.includes(m[1])) throw new Error(`unknown group name '${m[1]}'`);
        i += m[0].length;
        out += `(?:\\k<${m[1]}>)${quantifier()}`;
        atomStart = false;
        continue;
      } else if ((m = /^\(\?(?::|=|!|<=|<!)/.exec(rest))) {
        out += m[0];
      } else if (rest.startsWith('(?>')) throw new Refused('atomic groups (?>...) are not supported');
      else if (rest.startsWith('(?(')) throw new Refused('conditional groups (?(id)yes|no) are not supported');
      else if (/^\(\?[-aiLmsux]+:/.test(rest))
        throw new Refused('flags for part of a pattern, as in (?i:...), are not supported');
      else if (/^\(\?[aiLmsux]+\)/.test(rest)) throw new Error('global flags not at the start of the expression');
      else if (rest.startsWith('(?')) throw new Error(`unknown extension ${rest.slice(0, 3)}`);
      else {
        groups++;
        m = /^\(/.exec(rest)!;
        out += '(';
      }
      i += m[0].length;
      stack.push(i);
      atomStart = true;
      continue;
    } else if (
      '*+?'.includes(c) ||
      (c === '{' && /^\{\d*(,\d*)?\}/.test(pattern.slice(i)) && pattern.slice(i, i + 2) !== '{}')
    ) {
      if (atomStart) throw new Error('nothing to repeat');
      throw new Error('multiple repeat');
    } else {
      const ch = String.fromCodePoint(pattern.codePointAt(i)!);
      i += ch.length;
      atom = lit(ch);
    }
    const q = quantifier();
    if (q && !quantifiable) throw new Error('nothing to repeat');
    out += atom + q;
    atomStart = false;
  }
  if (stack.length) throw new Error('missing ), unterminated subpattern');
  return { source: out, flags: `v${flags.i ? 'i' : ''}` };
}

/** Compile a Python regex. Throws an Error naming the pattern when it is invalid or cannot be translated. */
export function pyRegex(pattern: string, what = 'regexp', opts: PyRegexOptions = {}): RegExp {
  try {
    const t = translate(pattern, opts);
    return new RegExp(t.source, t.flags);
  } catch (e) {
    if (e instanceof Refused) throw new Error(`${what} ${JSON.stringify(pattern)}: ${e.message}`);
    throw new Error(`invalid ${what} ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

/** Python's match.expand(template): \1, \g<1>, \g<name>, and \n \t \\ escapes. */
export function pyExpand(template: string, m: RegExpExecArray): string {
  return template.replace(
    /\\(g<([^>]+)>|(\d{1,2})|n|t|r|\\|.)/g,
    (whole, _e: string, g: string | undefined, num: string | undefined) => {
      const group = (key: string) => {
        const v = /^\d+$/.test(key) ? m[Number(key)] : m.groups?.[key];
        if (/^\d+$/.test(key) && Number(key) >= m.length) throw new Error(`invalid group reference ${key} in line`);
        return v ?? '';
      };
      if (g !== undefined) return group(g);
      if (num !== undefined) return group(num);
      switch (whole) {
        case '\\n':
          return '\n';
        case '\\t':
          return '\t';
        case '\\r':
          return '\r';
        case '\\\\':
          return '\\';
        default:
          return whole;
      }
    },
  );
}

/** Search one line as Python would search it (`$` matches before the line's newline). */
export function searchLine(re: RegExp, line: string): RegExpExecArray | null {
  re.lastIndex = 0;
  return re.exec(line.endsWith('\n') ? line.slice(0, -1) : line);
}
