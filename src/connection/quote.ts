// The one place shell commands are built. Every value reaches the host as a single-quoted word,
// so no host name, user name or var can inject a command.
import { shellSplit } from '../modules/lib/words.js';

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

/** shScript's inverse: the script and parameters of a command it made; undefined for any other command. */
export function parseShScript(command: string): { script: string; args: string[] } | undefined {
  if (!command.startsWith('sh -c ')) return undefined;
  let w: string[];
  try {
    w = shellSplit(command);
  } catch {
    return undefined;
  }
  // Only a line shellJoin itself wrote: its words are then exactly what sh sees (nothing sh would expand).
  if (w.length < 4 || w[1] !== '-c' || w[3] !== 'sh' || shellJoin(w) !== command) return undefined;
  return { script: w[2], args: w.slice(4) };
}
