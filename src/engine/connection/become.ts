// How a command runs as another user: through `sudo -n` (never prompts; fails if a password is
// needed), unless the login user already is that user (a login as root runs commands as they are).
import { parseShScript, shellJoin } from './quote.js';
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

const TRUE = new Set(['true', 'yes', 'on', 'y', 't', '1']);
const FALSE = new Set(['false', 'no', 'off', 'n', 'f', '0']);

/** A boolean as Ansible reads one (true/false, yes/no, on/off, 1/0, any case); undefined if it is none. */
export function ansibleBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  const s = String(value).trim().toLowerCase();
  return TRUE.has(s) ? true : FALSE.has(s) ? false : undefined;
}
