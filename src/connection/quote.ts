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
