// Free-form module arguments as ansible-playbook reads them: `file: path=/x state=directory`,
// `command: echo hi chdir=/tmp`. The text is split into words the way Ansible splits it (on spaces
// and newlines, but never inside quotes or a Jinja `{{ }}`, `{% %}` or `{# #}`), then each word
// `key=value` becomes an option (one pair of quotes around the value removed) and every other word is
// kept, in order and with its original spacing, as the free-form text (`_raw_params`).

export class KvError extends Error {}

/** How many `open` minus `close` markers `word` has, added to `depth` (never below zero). */
function depthAfter(word: string, depth: number, open: string, close: string): number {
  const opens = word.split(open).length - 1;
  const closes = word.split(close).length - 1;
  return opens === closes ? depth : Math.max(0, depth + opens - closes);
}

/** The quote still open after `word` (given the one open before it); a backslash escapes a quote. */
function openQuote(word: string, quote: string | undefined): string | undefined {
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if ((c === '"' || c === "'") && word[i - 1] !== '\\') {
      if (!quote) quote = c;
      else if (c === quote) quote = undefined;
    }
  }
  return quote;
}

/**
 * The words of `text`: quoted parts and Jinja blocks stay in one word with the spaces and newlines
 * inside them; a word that ended a line keeps its newline (so joining the words gives the lines back);
 * a lone backslash at the end of a line joins it to the next.
 */
export function splitArgs(text: string): string[] {
  const words: string[] = [];
  let quote: string | undefined;
  let print = 0;
  let block = 0;
  let comment = 0;
  const lines = text.split('\n');
  lines.forEach((line, li) => {
    const parts = line.split(' ');
    let continued = false;
    parts.forEach((part, pi) => {
      // Runs of spaces are kept on the word before them.
      if (part === '' && pi > 0) {
        if (words.length) words[words.length - 1] += ' ';
        return;
      }
      if (part === '\\' && !quote) {
        continued = true;
        return;
      }
      const wasQuoted = quote !== undefined;
      quote = openQuote(part, quote);
      const quoted = quote !== undefined;
      const inJinja = print > 0 || block > 0 || comment > 0;
      let added = false;
      if (quoted && !wasQuoted && !inJinja) {
        words.push(part);
        added = true;
      } else if (inJinja || quoted || wasQuoted) {
        if (pi === 0 && wasQuoted) words[words.length - 1] += part;
        else if (parts.length > 1) words[words.length - 1] += (pi > 0 ? ' ' : '') + part;
        else words[words.length - 1] += '\n' + part;
        added = true;
      }
      for (const [open, close, get, set] of [
        ['{{', '}}', () => print, (n: number) => (print = n)],
        ['{%', '%}', () => block, (n: number) => (block = n)],
        ['{#', '#}', () => comment, (n: number) => (comment = n)],
      ] as const) {
        const before = get();
        set(depthAfter(part, before, open, close));
        if (get() !== before && !added) {
          words.push(part);
          added = true;
        }
      }
      if (!print && !block && !comment && !quote && !added && part !== '') words.push(part);
    });
    if (lines.length > 1 && li < lines.length - 1 && !continued && words.length) words[words.length - 1] += '\n';
  });
  if (print || block || comment || quote)
    throw new KvError(`failed at splitting arguments, either an unbalanced jinja2 block or quotes: ${text}`);
  return words;
}

/** The words joined back: a space between two, none after a newline. */
export function joinArgs(words: string[]): string {
  let out = '';
  for (const w of words) out += out === '' || out.endsWith('\n') ? w : ' ' + w;
  return out;
}

/** `"x"` or `'x'` → `x` (when the closing quote is not escaped); anything else as it is. */
export function unquote(s: string): string {
  return s.length > 1 && s[0] === s[s.length - 1] && (s[0] === '"' || s[0] === "'") && s[s.length - 2] !== '\\'
    ? s.slice(1, -1)
    : s;
}

/** Python's one-character string escapes (`\\n` → newline), for every reader of Python literals. */
export const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** Python string escapes in a word (`\n`, `\t`, `\x41`, `\u00e9`, `\101`, `\\`), as Ansible decodes them. */
export function decodeEscapes(s: string): string {
  return s.replace(/\\(U[0-9A-Fa-f]{8}|u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|[0-7]{1,3}|[\\'"abfnrtv])/g, (_m, e: string) => {
    if (e[0] === 'U' || e[0] === 'u' || e[0] === 'x') return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCodePoint(parseInt(e, 8));
    return SIMPLE_ESCAPES[e];
  });
}

/** The options command and shell take inline in their free-form text. */
export const COMMAND_INLINE_KEYS = [
  'creates',
  'removes',
  'chdir',
  'executable',
  'warn',
  'stdin',
  'stdin_add_newline',
  'strip_empty_ends',
];

/**
 * `key=value` words as options; with `freeForm` (command, shell), only the command options are taken
 * and every other word (`a=b` included) stays in the text, under `_raw_params`.
 */
export function parseKv(text: string, freeForm = false): Record<string, string> {
  const options: Record<string, string> = {};
  const raw: string[] = [];
  for (const word of splitArgs(text)) {
    const w = decodeEscapes(word);
    // The first `=` not escaped by a backslash (one at the very start does not count).
    let eq = -1;
    for (let i = 1; i < w.length; i++) {
      if (w[i] === '=' && w[i - 1] !== '\\') {
        eq = i;
        break;
      }
    }
    if (eq < 0) {
      raw.push(w.includes('=') ? w.replace(/\\=/g, '=') : word);
      continue;
    }
    const key = w.slice(0, eq);
    if (freeForm && !COMMAND_INLINE_KEYS.includes(key)) raw.push(word);
    else options[key.trim()] = unquote(w.slice(eq + 1).trim());
  }
  if (raw.length) options._raw_params = joinArgs(raw);
  return options;
}
