// The one place shell commands are built. Every value reaches the host as a single-quoted word,
// so no host name, user name or var can inject a command.
import { shellSplit } from './words.js';

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

/**
 * The words of a line shellJoin wrote, or undefined for any other line: only then are they exactly what
 * sh sees (nothing in it that sh would expand).
 */
export function splitJoined(line: string): string[] | undefined {
  try {
    const words = shellSplit(line);
    return shellJoin(words) === line ? words : undefined;
  } catch {
    return undefined;
  }
}

/** shScript's inverse: the script and parameters of a command it made; undefined for any other command. */
export function parseShScript(command: string): { script: string; args: string[] } | undefined {
  const w = command.startsWith('sh -c ') ? splitJoined(command) : undefined;
  if (!w || w.length < 4 || w[1] !== '-c' || w[3] !== 'sh') return undefined;
  return { script: w[2], args: w.slice(4) };
}
