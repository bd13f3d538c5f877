// Python `re` patterns (what Ansible playbooks are written with) as JavaScript RegExps, and
// Python's match.expand() for backrefs. Covers the syntax that differs in practice.

/** Compile a Python regex. Throws an Error naming the pattern when it is invalid. */
export function pyRegex(pattern: string, what = 'regexp'): RegExp {
  let src = pattern;
  let flags = '';
  // Leading inline flags: (?i), (?m), (?s), (?im)...
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    for (const f of inline[1]) {
      if (f === 'i' || f === 'm' || f === 's') flags += flags.includes(f) ? '' : f;
      else if (f === 'x') throw new Error(`${what} ${JSON.stringify(pattern)}: the (?x) verbose flag is not supported`);
    }
    src = src.slice(inline[0].length);
  }
  src = src
    .replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$');
  try {
    return new RegExp(src, flags);
  } catch (e) {
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
