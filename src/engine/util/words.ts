// Word splitting for free-form arguments: shell-like (POSIX shlex) splitting of a command line, and
// Ansible's `key=value` pairs inside free-form text. Pure functions, no shell involved.

/**
 * Split like a POSIX shell splits words (Python's shlex.split): whitespace separates words, single
 * quotes are literal, double quotes allow \" \\ \$ \` escapes, a backslash outside quotes escapes the
 * next character. Nothing is expanded: no globs, variables, pipes or redirections.
 */
export function shellSplit(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated single quote in: ${text}`);
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        if (i >= text.length) throw new Error(`unterminated double quote in: ${text}`);
        const d = text[i];
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1])) {
          if (text[i + 1] !== '\n') word += text[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new Error(`trailing backslash in: ${text}`);
      if (text[i + 1] !== '\n') word += text[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

interface Token {
  text: string;
  start: number;
  end: number;
}

/** Top-level whitespace-separated tokens with their spans; quotes group, nothing is unquoted. */
function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) break;
    const start = i;
    let quote = '';
    while (i < text.length && (quote || !/\s/.test(text[i]))) {
      const c = text[i];
      if (c === '\\' && quote !== "'") i++;
      else if (quote && c === quote) quote = '';
      else if (!quote && (c === '"' || c === "'")) quote = c;
      i++;
    }
    out.push({ text: text.slice(start, Math.min(i, text.length)), start, end: Math.min(i, text.length) });
  }
  return out;
}

/**
 * Ansible's free-form `key=value` options: pull the words `KEY=value` whose KEY is in `keys` out of
 * the text (anywhere, at the top level, as Ansible does), leaving the rest of the text untouched.
 */
export function extractKv(text: string, keys: readonly string[]): { rest: string; kv: Record<string, string> } {
  const kv: Record<string, string> = {};
  let rest = '';
  let last = 0;
  for (const t of tokens(text)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(t.text);
    if (!m || !keys.includes(m[1])) continue;
    const [value = ''] = shellSplit(t.text.slice(m[0].length));
    kv[m[1]] = value;
    rest += text.slice(last, t.start).replace(/[ \t]+$/, '');
    last = t.end;
  }
  rest += text.slice(last);
  return { rest: rest.trim(), kv };
}

/** `a=1 b="two words"` → {a: "1", b: "two words"} (all keys); words without `=` are an error. */
export function parseKv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tokens(text)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(t.text);
    if (!m) throw new Error(`expected key=value, got "${t.text}"`);
    const words = shellSplit(t.text.slice(m[0].length));
    out[m[1]] = words.join(' ');
  }
  return out;
}
