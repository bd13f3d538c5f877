// The one place shell commands are built. Every value reaches the host as a single-quoted word,
// so no host name, user name or var can inject a command.

/** Quote one word for a POSIX shell. */
export function shq(word: string | number): string {
  const s = String(word);
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Join argv into one command line, each word quoted. */
export function shellJoin(argv: ReadonlyArray<string | number>): string {
  return argv.map(shq).join(' ');
}

/** `sh -c SCRIPT sh ARGS...`: a fixed script with values passed as positional parameters. */
export function shScript(script: string, args: ReadonlyArray<string | number> = []): string {
  return shellJoin(['sh', '-c', script, 'sh', ...args]);
}

// A word as shq writes it: bare, or single-quoted with each ' written '\''.
const WORD = /(?:[A-Za-z0-9_@%+=:,./-]+|'(?:[^']|'\\'')*')(?= |$)/y;

/** The words of a line shellJoin wrote, or undefined if it is not one. */
function splitJoined(line: string): string[] | undefined {
  const words: string[] = [];
  WORD.lastIndex = 0;
  while (WORD.lastIndex < line.length) {
    const m = WORD.exec(line);
    if (!m) return undefined;
    words.push(m[0].startsWith("'") ? m[0].slice(1, -1).replace(/'\\''/g, "'") : m[0]);
    if (WORD.lastIndex < line.length) WORD.lastIndex++; // the space the word's lookahead saw
  }
  return words;
}

/** shScript's inverse: the script and parameters of a command it made; undefined for any other command. */
export function parseShScript(command: string): { script: string; args: string[] } | undefined {
  if (!command.startsWith('sh -c ')) return undefined;
  const w = splitJoined(command);
  if (!w || w.length < 4 || w[0] !== 'sh' || w[1] !== '-c' || w[3] !== 'sh') return undefined;
  return { script: w[2], args: w.slice(4) };
}
