// How a command runs as another user: through `sudo -n` (never prompts; fails if a password is
// needed), unless the login user already is that user (a login as root runs commands as they are).
import { parseShScript, shellJoin } from '../util/quote.js';
import type { RunOptions } from './types.js';

/** Who a command runs as: its become user (root unless named), or '' for the login user. */
export const runsAs = (c: { become?: boolean; becomeUser?: string }) => (c.become ? (c.becomeUser ?? 'root') : '');

/** Wrap a command line so it runs as opts.becomeUser (root) when opts.become; `loginUser` is who runs it now. */
export function withBecome(command: string, opts: RunOptions, loginUser?: string): string {
  if (!opts.become) return command;
  const user = opts.becomeUser ?? 'root';
  if (user === 'root' && loginUser === 'root') return command;
  // shScript's `sh -c SCRIPT sh ARGS` goes to sudo as those words: the same sh, not one more around it.
  const s = parseShScript(command);
  return shellJoin([
    'sudo',
    '-n',
    '-H',
    '-u',
    user,
    '--',
    ...(s ? ['sh', '-c', s.script, 'sh', ...s.args] : ['sh', '-c', command]),
  ]);
}
