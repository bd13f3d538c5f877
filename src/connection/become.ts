import { shellJoin } from './quote.js';
import type { RunOptions } from './types.js';

/** Wrap a command line so it runs through `sudo -n` (never prompts; fails if a password is needed). */
export function withBecome(command: string, opts: RunOptions): string {
  if (!opts.become) return command;
  const user = opts.becomeUser ?? 'root';
  return `${shellJoin(['sudo', '-n', '-H', '-u', user, '--', 'sh', '-c', command])}`;
}
